/**
 * `carepipe backfill`: runs backfillWorkflow over a range of ingest dates (re-ingest each date,
 * rebuild only the feature buckets whose inputs changed, optionally retrain), or resumes a failed
 * backfill: only the dates it failed on run again (`--resume <workflow id>`).
 */
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import type { Config } from '../../core/config.js';
import type { Identity } from '../../core/identity/roles.js';
import { ConfigError, InvalidInputError } from '../../core/errors.js';
import type { BackfillFailureDetails, BackfillInput, BackfillResult, ModelFamily } from '../../schemas/workflows.js';
import { BACKFILL_INCOMPLETE, type backfillWorkflow } from '../../workflows/index.js';
import { codeVersion } from '../code-version.js';
import { options, wholeNumber } from '../options.js';
import { action, type RunFailedError } from '../output.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { probeBackfill, startBackfill } from '../runs.js';

interface BackfillOptions extends RunFlags {
  from?: string;
  to?: string;
  resume?: string;
  lake?: string;
  dataset: string;
  buckets: number;
  parallel: number;
  retrain?: boolean;
  model: string;
  families: ModelFamily[];
}

/** A fresh backfill's input, or the id of the failed run to resume (its input is read from the server once connected). */
type BackfillRequest = { input: BackfillInput } | { resume: string; actor: Identity };

export function backfillInput(opts: Omit<BackfillOptions, keyof RunFlags>, config: Config, actor: Identity): BackfillInput {
  if (opts.from === undefined || opts.to === undefined) throw new ConfigError('give the dates: --from YYYY-MM-DD --to YYYY-MM-DD (or --resume <workflow id>)');
  if (opts.from > opts.to) throw new ConfigError(`--from (${opts.from}) is after --to (${opts.to})`);
  return {
    lake: opts.lake ?? config.lake.uri,
    actor,
    from: opts.from,
    to: opts.to,
    dataset: opts.dataset,
    bucketCount: opts.buckets,
    maxParallelDates: opts.parallel,
    ...(opts.retrain ? { retrain: { model: opts.model, families: opts.families, codeVersion: codeVersion() } } : {}),
  };
}

/** The input of a resume: the failed run's input, narrowed to the dates it failed on. */
export async function resumeInput(client: Client, workflowId: string, actor: Identity): Promise<BackfillInput> {
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
  // The one who resumes acts now, whoever started the first run.
  const resumed: BackfillInput = { ...original, actor, resumeOf: workflowId };
  delete resumed.dates;
  if (failedDates?.length) resumed.dates = failedDates;
  else if (original.dates) resumed.dates = original.dates;
  return resumed;
}

function reportLines(r: BackfillResult): string[] {
  const f = r.features;
  const p = r.retrain?.promotion;
  return [
    ...r.dates.map((d) =>
      d.status === 'done'
        ? `  ${d.date}: ${d.files} files (${d.skippedFiles} unchanged, ${d.quarantinedFiles} quarantined), ${d.rowsIn} rows`
        : `  ${d.date}: FAILED (${d.errorType})`,
    ),
    `features ${f.dataset}@${f.version}: ${f.builtShards} of ${f.shards} shards rebuilt, ${f.reusedShards} reused, ${f.shards - f.builtShards - f.reusedShards} already built`,
    ...(p ? [p.promoted ? `promoted ${p.version}: ${p.reason}` : `not promoted (${p.version}): ${p.reason}`] : []),
  ];
}

/** With --json, the dates a failed backfill finished and failed, and the command that resumes it (stderr says it too). */
function failureOf(err: RunFailedError, workflowId: string) {
  const cause = (err.cause as WorkflowFailedError | undefined)?.cause;
  const details = cause instanceof ApplicationFailure ? (cause.details?.[0] as BackfillFailureDetails | undefined) : undefined;
  return { json: { failed: details?.failed ?? null, done: details?.done ?? null, resume: `carepipe backfill --resume ${workflowId}` } };
}

export const backfillRun: RunCommand<BackfillOptions, BackfillRequest, typeof backfillWorkflow> = {
  input(opts, config, actor) {
    if (opts.resume && (opts.from || opts.to)) throw new ConfigError('--resume takes the dates of the run it resumes: drop --from and --to');
    return opts.resume ? { resume: opts.resume, actor } : { input: backfillInput(opts, config, actor) };
  },
  async start(client, config, request) {
    const input = 'input' in request ? request.input : await resumeInput(client, request.resume, request.actor);
    const handle = await startBackfill(client, config, input);
    return { handle, json: { input }, ...(input.resumeOf ? { note: `resuming ${input.resumeOf}: ${input.dates?.join(', ') ?? 'every date'}` } : {}) };
  },
  probe: probeBackfill,
  report: (result) => ({ json: { ...result }, lines: reportLines(result) }),
  failure: (err, _request, workflowId) => failureOf(err, workflowId),
};

export function registerBackfill(program: Command): void {
  addRunFlags(
    program
      .command('backfill')
      .description(COMMANDS.backfill)
      .addOption(options.date('--from <date>', 'first ingest date (YYYY-MM-DD)'))
      .addOption(options.date('--to <date>', 'last ingest date (YYYY-MM-DD)'))
      .option('--resume <workflowId>', 'resume a failed backfill: run again only the dates it failed on')
      .addOption(options.lake())
      .addOption(options.dataset())
      .addOption(options.buckets())
      .option('--parallel <n>', 'dates ingested at once (1 to 64)', wholeNumber('--parallel', 1, 64), 4)
      .option('--retrain', 'retrain and gate a model on the rebuilt features')
      .addOption(options.model('registry model name (with --retrain)'))
      .addOption(options.families('comma-separated model families (with --retrain)')),
  ).action(action((opts: BackfillOptions) => runWorkflowCommand(backfillRun, opts)));
}
