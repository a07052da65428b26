/** `carepipe ingest`: runs ingestWorkflow over a range of ingest dates of the landing zone. */
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { ConfigError } from '../../core/errors.js';
import { RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { IngestInput } from '../../schemas/workflows.js';
import type { ingestWorkflow } from '../../workflows/index.js';
import { options, refuse, wholeNumber } from '../options.js';
import { action } from '../output.js';
import { ingestQualityLines } from '../quality.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { probeIngest, startIngest } from '../runs.js';
import { compactionLine } from '../compaction-line.js';

interface IngestOptions extends RunFlags {
  lake?: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
  buckets: number;
  filesPerTask?: number;
}

function parseTables(list: string): RawTable[] {
  const tables = list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of tables) if (!(RAW_TABLES as readonly string[]).includes(t)) refuse(`--tables: unknown table "${t}"; known: ${RAW_TABLES.join(', ')}`);
  return tables as RawTable[];
}

export const ingestRun: RunCommand<IngestOptions, IngestInput, typeof ingestWorkflow> = {
  input(opts, config, actor) {
    if (opts.from && opts.to && opts.from > opts.to) throw new ConfigError(`--from (${opts.from}) is after --to (${opts.to})`);
    return {
      lake: opts.lake ?? config.lake.uri,
      actor,
      bucketCount: opts.buckets,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      ...(opts.tables ? { tables: opts.tables } : {}),
      ...(opts.filesPerTask ? { filesPerTask: opts.filesPerTask } : {}),
    };
  },
  start: async (client, config, input) => ({ handle: await startIngest(client, config, input, 'manual') }),
  probe: probeIngest,
  report: (summary, input) => ({
    json: { ...summary },
    lines: [
      `${summary.files} files (${summary.skippedFiles} unchanged, ${summary.quarantinedFiles} quarantined) in ${summary.runs} run(s)`,
      `${summary.rowsIn} rows in = ${summary.accepted} accepted + ${summary.corrected} corrected + ${summary.rejected} rejected`,
      ...summary.quarantined.map((key) => `  quarantined ${key}`),
      ...ingestQualityLines(summary.quality),
      `manifests: ${summary.manifests.length} under ${input.lake}/manifests/ingest/`,
      compactionLine(summary.compaction),
    ],
  }),
};

export function registerIngest(program: Command): void {
  addRunFlags(
    program
      .command('ingest')
      .description(COMMANDS.ingest)
      .addOption(options.lake())
      .addOption(options.date('--from <date>', 'first ingest date (YYYY-MM-DD); default: the first there is'))
      .addOption(options.date('--to <date>', 'last ingest date (YYYY-MM-DD); default: the last there is'))
      .option('--tables <list>', `comma-separated tables (${RAW_TABLES.join(', ')}); default: all`, parseTables)
      .addOption(options.buckets())
      .option('--files-per-task <n>', 'raw files of one table curated by one activity (1 to 256; default 16)', wholeNumber('--files-per-task', 1, 256)),
  ).action(action((opts: IngestOptions) => runWorkflowCommand(ingestRun, opts)));
}
