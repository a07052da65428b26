import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { type Config, loadConfig, parseLakeUri } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { options } from '../options.js';
import { lake as layout } from '../../data-lake/layout.js';
import { type GenerationSummary, type GeneratorInput, resolveOptions, writeRawLake } from '../../data-lake/generator/index.js';
import { action, printJson, say } from '../output.js';

/** Where a generation records its options and summary: beside the ground truth, outside raw/. */
export const GENERATION_RECORD = layout.groundTruth('generation.json');

export interface GenerationRecord {
  options: ReturnType<typeof resolveOptions>;
  summary: Omit<GenerationSummary, 'options'>;
}

export async function readGenerationRecord(store: ObjectStore): Promise<GenerationRecord | undefined> {
  if (!(await store.head(GENERATION_RECORD))) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.get(GENERATION_RECORD))) as GenerationRecord;
}

/** Generates into the lake and records the options and summary; progress lines go to `log`. */
export async function generateInto(config: Config, store: ObjectStore, input: GeneratorInput, log: (line: string) => void): Promise<GenerationSummary> {
  const lakeLocation = parseLakeUri(store.uri, '--lake');
  await ensureBucket(lakeLocation, config.s3);
  const summary = await writeRawLake(store, input, (p) => {
    log(
      `  generated ${p.patientsDone}/${p.patients} patients, ${p.filesWritten} files, ${(p.bytesWritten / 1e6).toFixed(1)} MB, ~${Math.ceil(p.remainingMs / 1000)} s left`,
    );
  });
  const { options, ...rest } = summary;
  await store.put(GENERATION_RECORD, JSON.stringify({ options, summary: rest } satisfies GenerationRecord, null, 2) + '\n', {
    contentType: 'application/json',
  });
  return summary;
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

function rateOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  // The range is resolveOptions' to check, with the generator's own sentence.
  if (!/^\d*\.?\d+$/.test(value)) throw new ConfigError(`--${name} must be a number from 0 to 1, got "${value}"`);
  return Number(value);
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(COMMANDS.generate)
    .addOption(options.lake())
    .option('--patients <n>', 'patients', '2000')
    .option('--days <n>', 'ingest dates', '14')
    .option('--seed <n>', 'random seed: the same seed gives the same files', '1')
    .addOption(options.date('--start-date <date>', 'first ingest date (YYYY-MM-DD)'))
    .option('--files-per-day <n>', 'files per table and ingest date')
    .option('--sent-at-admission <rate>', 'share of closed stays sent whole on their admission day, discharge filled in (default 0)')
    .option('--evening <rate>', "share of admissions, discharges and lab rounds late in the local evening, sent in that local day's file (default 0)")
    .option('--clean', 'no messiness (alternate units, duplicates, corrections, empty files, mixed formats)')
    .option('--corrupt', 'also write a truncated file, a wrong column type, an extra column and a missing optional column')
    .option('--json', 'print the summary as JSON')
    .action(
      action(
        async (opts: {
          lake?: string;
          patients: string;
          days: string;
          seed: string;
          startDate?: string;
          filesPerDay?: string;
          sentAtAdmission?: string;
          evening?: string;
          clean?: boolean;
          corrupt?: boolean;
          json?: boolean;
        }) => {
          const config = loadConfig();
          const lakeLocation = parseLakeUri(opts.lake ?? config.lake.uri, '--lake');
          const input: GeneratorInput = {
            patients: intOption('patients', opts.patients),
            days: intOption('days', opts.days),
            seed: intOption('seed', opts.seed),
            startDate: opts.startDate,
            filesPerDay: intOption('files-per-day', opts.filesPerDay),
            sentAtAdmissionRate: rateOption('sent-at-admission', opts.sentAtAdmission),
            eveningRate: rateOption('evening', opts.evening),
            messiness: opts.clean ? 'none' : { corrupt: opts.corrupt ?? false },
          };
          resolveOptions(input); // fail on bad options before touching the store
          const store = openStore(lakeLocation, config.s3);
          try {
            const summary = await generateInto(config, store, input, opts.json ? () => {} : say);
            if (opts.json) return printJson({ lake: lakeLocation.uri, ...summary });
            say(
              `wrote ${summary.filesWritten} files (${(summary.bytesWritten / 1e6).toFixed(1)} MB) to ${lakeLocation.uri}/raw/ in ${(summary.elapsedMs / 1000).toFixed(1)} s`,
            );
            say(
              `rows: ${Object.entries(summary.rows)
                .map(([t, n]) => `${t} ${n}`)
                .join(', ')}`,
            );
            say(`index stays ${summary.indexStays}, readmission rate ${(summary.readmissionRate * 100).toFixed(1)}%`);
            say(`Bayes-optimal ROC AUC ${summary.bayesAuc.toFixed(4)} (the ceiling for any model on these labels)`);
            if (summary.corruptFiles.length) say(`corrupt files: ${summary.corruptFiles.map((f) => f.key).join(', ')}`);
          } finally {
            store.close();
          }
        },
      ),
    );
}
