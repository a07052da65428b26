import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ParentClosePolicy,
  continueAsNew,
  defineQuery,
  executeChild,
  log,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TypedSearchAttributes } from '@temporalio/common';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import type {
  BackfillDateResult,
  BackfillFailureDetails,
  BackfillInput,
  BackfillProgress,
  BackfillResult,
  BackfillStage,
  FeaturesResult,
  RetrainResult,
} from '../schemas/workflows.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapUntilHistoryFull } from './fan-out.js';
import { featuresWorkflow } from './features.js';
import { ingestWorkflow } from './ingest.js';
import { retrainWorkflow } from './retrain.js';
import { checkBucketCount, checkDateRange, checkLake, checkName, invalid, checkActor } from './validate.js';

export const backfillProgressQuery = defineQuery<BackfillProgress>('progress');

/** The failure type of a backfill some of whose dates failed; its details are a BackfillFailureDetails. */
export const BACKFILL_INCOMPLETE = 'BackfillIncompleteError';

/** At most ten years of dates in one run. */
const MAX_DATES = 3_660;
const DAY_MS = 86_400_000;

/** Every date from `from` to `to`, inclusive (both YYYY-MM-DD, already checked). */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && dates.length <= MAX_DATES; t += DAY_MS) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  return dates;
}

/** The type of the innermost application failure under a child's failure (child -> activity -> application). */
function failureType(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    if (e instanceof ApplicationFailure && e.type) return e.type;
    if (!(e instanceof ChildWorkflowFailure) && !(e.cause instanceof Error)) break;
    e = e.cause;
  }
  return e instanceof Error ? e.name : 'UnknownError';
}

/**
 * Re-ingests a range of ingest dates and rebuilds the features they touch, optionally retraining.
 * Each date is one partition: its own ingestWorkflow child (`<id>/ingest/<date>`), a bounded
 * window of them in flight, and a failed date does not stop the others. The features stage runs
 * only when every date is in: its plan hashes each bucket's curated fragments, so only buckets
 * whose inputs changed are computed, the rest copied from the previous version. A run with failed
 * dates fails with their list (BackfillIncompleteError); a resume (`carepipe backfill --resume`)
 * runs just those dates, and the finished ones are in the lake already (ingest skips a file whose
 * manifest holds the same input hash, so even a full rerun only redoes what is missing).
 * Ten years of dates is over 30,000 events of children, so the date stage runs as a chain of
 * runs: each starts dates only while its history has room for those in flight, then continues as
 * new carrying the finished dates' results (`cursor`), which also give the progress counts.
 */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillResult> {
  checkActor(input.actor, 'ingest');
  checkActor(input.actor, input.retrain ? 'retrain' : 'build-features');
  checkLake(input.lake);
  checkName('dataset', input.dataset);
  checkBucketCount(input.bucketCount);
  checkDateRange(input.from, input.to);
  if (input.retrain) checkName('model', input.retrain.model);
  const range = datesBetween(input.from, input.to);
  if (range.length > MAX_DATES) invalid(`a backfill covers at most ${MAX_DATES} dates, got ${input.from} to ${input.to}`);
  for (const d of input.dates ?? []) if (!range.includes(d)) invalid(`dates: ${d} is outside ${input.from} to ${input.to}`);
  const dates = input.dates ? range.filter((d) => input.dates!.includes(d)) : range;
  const maxParallel = input.maxParallelDates ?? 4;
  if (!(Number.isInteger(maxParallel) && maxParallel >= 1 && maxParallel <= 64))
    invalid(`maxParallelDates must be a whole number from 1 to 64, got ${maxParallel}`);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  if (!(Number.isInteger(historyLimit) && historyLimit >= 1)) invalid(`historyLimit must be a positive whole number, got ${historyLimit}`);
  const results: BackfillDateResult[] = [...(input.cursor?.results ?? [])];
  if (results.some((r, i) => r.date !== dates[i])) invalid('cursor: its results are not the first dates of this backfill');
  const runs = (input.cursor?.runs ?? 0) + 1;

  const { workflowId } = workflowInfo();
  const progress: BackfillProgress = { stage: 'starting', datesTotal: dates.length, datesDone: 0, datesFailed: 0, files: 0, rowsIn: 0, running: [] };
  const count = (r: BackfillDateResult) => {
    if (r.status === 'done') progress.datesDone++;
    else progress.datesFailed++;
    progress.files += r.files;
    progress.rowsIn += r.rowsIn;
  };
  results.forEach(count);
  setHandler(backfillProgressQuery, () => progress);
  const attributes = (stage: string) =>
    new TypedSearchAttributes([
      ...(input.retrain ? [{ key: SA_MODEL, value: input.retrain.model }] : []),
      { key: SA_DATASET, value: input.dataset },
      { key: SA_STAGE, value: stage },
      { key: SA_TRIGGER, value: 'backfill' },
    ]);
  const enter = (stage: BackfillStage) => {
    progress.stage = stage;
    upsertSearchAttributes([{ key: SA_STAGE, value: stage }]);
    log.info('backfill stage', { stage, dates: dates.length });
  };
  const child = { parentClosePolicy: ParentClosePolicy.TERMINATE };

  enter('ingest');
  const ingestDate = async (date: string): Promise<BackfillDateResult> => {
    const id = `${workflowId}/ingest/${date}`;
    progress.running.push(id);
    try {
      const s = await executeChild(ingestWorkflow, {
        ...child,
        workflowId: id,
        typedSearchAttributes: attributes('ingest'),
        // Compacted once, by the features stage, rather than by every date's child.
        args: [{ lake: input.lake, actor: input.actor, from: date, to: date, bucketCount: input.bucketCount, compact: false }],
      });
      return { date, status: 'done', files: s.files, skippedFiles: s.skippedFiles, quarantinedFiles: s.quarantinedFiles, rowsIn: s.rowsIn };
    } catch (err) {
      const errorType = failureType(err);
      log.warn('backfill date failed', { date, childWorkflowId: id, errorType });
      return { date, status: 'failed', files: 0, skippedFiles: 0, quarantinedFiles: 0, rowsIn: 0, errorType };
    } finally {
      progress.running = progress.running.filter((r) => r !== id);
    }
  };
  const next = await mapUntilHistoryFull(dates, results.length, maxParallel, historyLimit, async (date, index) => {
    const result = await ingestDate(date);
    results[index] = result;
    count(result);
  });
  if (next < dates.length) {
    log.info('backfill continues as new', { datesFinished: next, dates: dates.length, runs });
    await continueAsNew<typeof backfillWorkflow>({ ...input, cursor: { results, runs } });
  }

  // What a resume reads, as the caller gave it (without the chain's cursor).
  const original: BackfillInput = { ...input };
  delete original.cursor;
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    const details: BackfillFailureDetails = { input: original, failed, done: results.filter((r) => r.status === 'done').map((r) => r.date) };
    upsertMemo({ summary: `${failed.length} of ${dates.length} dates failed: ${failed.map((f) => `${f.date} (${f.errorType})`).join(', ')}` });
    throw ApplicationFailure.create({
      type: BACKFILL_INCOMPLETE,
      nonRetryable: true,
      details: [details],
      message:
        `${failed.length} of ${dates.length} dates failed (${failed.map((f) => f.date).join(', ')}); ` +
        `fix the cause and resume: carepipe backfill --resume ${workflowId}`,
    });
  }

  let features: FeaturesResult;
  let retrain: RetrainResult | null = null;
  if (input.retrain) {
    // The retrain's own features stage rebuilds the touched buckets; train and promote follow.
    enter('retrain');
    const id = `${workflowId}/retrain`;
    progress.running = [id];
    const r = input.retrain;
    retrain = await executeChild(retrainWorkflow, {
      ...child,
      workflowId: id,
      typedSearchAttributes: attributes('starting'),
      memo: { model: r.model, dataset: input.dataset, families: r.families.join(','), trigger: 'backfill' },
      args: [
        {
          lake: input.lake,
          actor: input.actor,
          model: r.model,
          dataset: input.dataset,
          families: r.families,
          bucketCount: input.bucketCount,
          trigger: 'backfill',
          ...(r.gate ? { gate: r.gate } : {}),
          ...(r.seed !== undefined ? { seed: r.seed } : {}),
          ...(r.codeVersion ? { codeVersion: r.codeVersion } : {}),
        },
      ],
    });
    features = retrain.features;
  } else {
    enter('features');
    const id = `${workflowId}/features`;
    progress.running = [id];
    features = await executeChild(featuresWorkflow, {
      ...child,
      workflowId: id,
      typedSearchAttributes: attributes('features'),
      args: [{ lake: input.lake, actor: input.actor, dataset: input.dataset, bucketCount: input.bucketCount }],
    });
  }
  progress.running = [];
  upsertSearchAttributes([{ key: SA_DATASET, value: `${input.dataset}@${features.version}` }]);
  enter('done');
  const files = results.reduce((a, r) => a + r.files, 0);
  const unchanged = results.reduce((a, r) => a + r.skippedFiles, 0);
  upsertMemo({
    summary:
      `${dates.length} dates, ${files} files (${unchanged} unchanged); features ${input.dataset}@${features.version}: ` +
      `${features.builtShards} of ${features.shards} shards rebuilt` +
      (retrain ? `; ${retrain.promotion.promoted ? `promoted ${retrain.promotion.version}` : `not promoted: ${retrain.promotion.reason}`}` : ''),
  });
  return { dates: results, features, retrain, resumeOf: input.resumeOf ?? null };
}
