/**
 * `carepipe backfill`: runs backfillWorkflow over a range of ingest dates (re-ingest each date,
 * rebuild only the feature buckets whose inputs changed, optionally retrain), or resumes a failed
 * backfill: only the dates it failed on run again (`--resume <workflow id>`).
 */
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { type Config, loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError, InvalidInputError } from '../../core/errors.js';
import { isIngestDate } from '../../data-lake/layout.js';
import { type BackfillFailureDetails, type BackfillInput, type BackfillResult, DEFAULT_BUCKET_COUNT } from '../../schemas/workflows.js';
import { BACKFILL_INCOMPLETE, type backfillWorkflow } from '../../workflows/index.js';
import { codeVersion } from '../code-version.js';
import { action, printJson, RunFailedError, say } from '../output.js';
import { createProgressView, progressMode } from '../progress.js';
import { probeBackfill, startBackfill, watch } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';
import { featuresInput } from './features.js';
import { parseFamilies } from './retrain.js';

interface BackfillOptions {
  from?: string;
  to?: string;
  resume?: string;
  lake?: string;
  dataset: string;
  buckets: string;
  parallel: string;
  retrain?: boolean;
  model: string;
  families: string;
  json?: boolean;
  wait: boolean;
}

export function backfillInput(opts: BackfillOptions, defaultLake: string): BackfillInput {
  if (opts.from === undefined || opts.to === undefined) throw new ConfigError('give the dates: --from YYYY-MM-DD --to YYYY-MM-DD (or --resume <workflow id>)');
  for (const [flag, value] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (!isIngestDate(value)) throw new ConfigError(`${flag} must be a date YYYY-MM-DD, got "${value}"`);
  }
  if (opts.from > opts.to) throw new ConfigError(`--from (${opts.from}) is after --to (${opts.to})`);
  const { lake, dataset, bucketCount } = featuresInput({ lake: opts.lake ?? defaultLake, dataset: opts.dataset, buckets: opts.buckets, wait: true }, defaultLake);
  const parallel = Number(opts.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new ConfigError(`--parallel must be a whole number from 1 to 64, got "${opts.parallel}"`);
  return {
    lake: parseLakeUri(lake, '--lake').uri, from: opts.from, to: opts.to, dataset, bucketCount, maxParallelDates: parallel,
    ...(opts.retrain ? { retrain: { model: opts.model, families: parseFamilies(opts.families), codeVersion: codeVersion() } } : {}),
  };
}

/** The input of a resume: the failed run's input, narrowed to the dates it failed on. */
export async function resumeInput(client: Client, workflowId: string): Promise<BackfillInput> {
  const handle = client.workflow.getHandle<typeof backfillWorkflow>(workflowId);
  const description = await handle.describe().catch((cause: unknown) => {
    throw new InvalidInputError(`--resume: no backfill run "${workflowId}"`, { cause });
  });
  if (description.type !== 'backfillWorkflow') throw new InvalidInputError(`--resume: ${workflowId} is a ${description.type}, not a backfill`);
  if (description.status.name === 'RUNNING') throw new InvalidInputError(`--resume: ${workflowId} is still running`);
  if (description.status.name === 'COMPLETED') throw new InvalidInputError(`--resume: ${workflowId} completed; nothing to resume`);
  const original = (description.memo as { input?: BackfillInput } | undefined)?.input;
  if (!original) throw new InvalidInputError(`--resume: ${workflowId} has no recorded input in its memo`);
  let failedDates: string[] | undefined;
  try {
    await handle.result();
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type === BACKFILL_INCOMPLETE) {
      failedDates = (cause.details?.[0] as BackfillFailureDetails | undefined)?.failed.map((f) => f.date);
    }
  }
  // Failed for another reason (terminated, timed out, ...): the whole range again; finished files are skipped.
  const resumed: BackfillInput = { ...original, resumeOf: workflowId };
  delete resumed.dates;
  if (failedDates?.length) resumed.dates = failedDates;
  else if (original.dates) resumed.dates = original.dates;
  return resumed;
}

function report(config: Config, workflowId: string, r: BackfillResult): void {
  for (const d of r.dates) {
    say(d.status === 'done'
      ? `  ${d.date}: ${d.files} files (${d.skippedFiles} unchanged, ${d.quarantinedFiles} quarantined), ${d.rowsIn} rows`
      : `  ${d.date}: FAILED (${d.errorType})`);
  }
  const f = r.features;
  say(`features ${f.dataset}@${f.version}: ${f.builtShards} of ${f.shards} shards rebuilt, ${f.reusedShards} reused, ${f.shards - f.builtShards - f.reusedShards} already built`);
  if (r.retrain) {
    const p = r.retrain.promotion;
    say(p.promoted ? `promoted ${p.version}: ${p.reason}` : `not promoted (${p.version}): ${p.reason}`);
  }
  say(workflowUrl(config, workflowId));
}

export function registerBackfill(program: Command): void {
  program.command('backfill')
    .description(COMMANDS.backfill)
    .option('--from <date>', 'first ingest date (YYYY-MM-DD)')
    .option('--to <date>', 'last ingest date (YYYY-MM-DD)')
    .option('--resume <workflowId>', 'resume a failed backfill: run again only the dates it failed on')
    .option('--lake <uri>', 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE')
    .option('--dataset <name>', 'feature dataset name', 'readmission')
    .option('--buckets <n>', 'patient buckets of the curated zone', String(DEFAULT_BUCKET_COUNT))
    .option('--parallel <n>', 'dates ingested at once', '4')
    .option('--retrain', 'retrain and gate a model on the rebuilt features')
    .option('--model <name>', 'registry model name (with --retrain)', 'readmission-30d')
    .option('--families <list>', 'comma-separated model families (with --retrain)', 'logreg')
    .option('--no-wait', 'start the run and return its id')
    .option('--json', 'print the result as JSON')
    .action(action(async (opts: BackfillOptions) => {
      const config = loadConfig();
      if (opts.resume && (opts.from || opts.to)) throw new ConfigError('--resume takes the dates of the run it resumes: drop --from and --to');
      const fresh = opts.resume ? undefined : backfillInput(opts, config.lake.uri);
      const client = await connectClient(config, requireKeys(config));
      try {
        const input = fresh ?? await resumeInput(client, opts.resume!);
        const handle: WorkflowHandle<typeof backfillWorkflow> = await startBackfill(client, config, input);
        const url = workflowUrl(config, handle.workflowId);
        if (!opts.wait) return opts.json ? printJson({ workflowId: handle.workflowId, url, input }) : say(`started ${handle.workflowId}\n${url}`);
        if (!opts.json) {
          say(`started ${handle.workflowId}${input.resumeOf ? ` (resuming ${input.resumeOf}: ${input.dates?.join(', ') ?? 'every date'})` : ''}\n  ${url}`);
        }
        const view = createProgressView(progressMode(opts.json));
        let result: BackfillResult;
        try {
          result = await watch(handle, () => probeBackfill(client, handle.workflowId), (p) => view.update(p)).finally(() => view.finish());
        } catch (err) {
          if (err instanceof RunFailedError && opts.json) {
            const cause = (err.cause as WorkflowFailedError | undefined)?.cause;
            const details = cause instanceof ApplicationFailure ? cause.details?.[0] as BackfillFailureDetails | undefined : undefined;
            printJson({ workflowId: handle.workflowId, url, failed: details?.failed ?? null, done: details?.done ?? null, resume: `carepipe backfill --resume ${handle.workflowId}` });
          }
          throw err;
        }
        if (opts.json) return printJson({ workflowId: handle.workflowId, url, ...result });
        report(config, handle.workflowId, result);
      } finally {
        await client.connection.close();
      }
    }));
}
