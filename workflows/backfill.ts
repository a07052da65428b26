import {
  ApplicationFailure, ChildWorkflowFailure, ParentClosePolicy, defineQuery, executeChild, log, setHandler, upsertMemo,
  upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { TypedSearchAttributes } from '@temporalio/common';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import type {
  BackfillDateResult, BackfillFailureDetails, BackfillInput, BackfillProgress, BackfillResult, BackfillStage, FeaturesResult,
  RetrainResult,
} from '../schemas/workflows.js';
import { mapBounded } from './fan-out.js';
import { featuresWorkflow } from './features.js';
import { ingestWorkflow } from './ingest.js';
import { retrainWorkflow } from './retrain.js';
import { checkBucketCount, checkDateRange, checkLake, checkName, invalid } from './validate.js';

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
 */
export async function backfillWorkflow(input: BackfillInput): Promise<BackfillResult> {
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
  if (!(Number.isInteger(maxParallel) && maxParallel >= 1 && maxParallel <= 64)) invalid(`maxParallelDates must be a whole number from 1 to 64, got ${maxParallel}`);

  const { workflowId } = workflowInfo();
  const progress: BackfillProgress = { stage: 'starting', datesTotal: dates.length, datesDone: 0, datesFailed: 0, files: 0, rowsIn: 0, running: [] };
  setHandler(backfillProgressQuery, () => progress);
  const attributes = (stage: string) => new TypedSearchAttributes([
    ...(input.retrain ? [{ key: SA_MODEL, value: input.retrain.model }] : []),
    { key: SA_DATASET, value: input.dataset }, { key: SA_STAGE, value: stage }, { key: SA_TRIGGER, value: 'backfill' },
  ]);
  const enter = (stage: BackfillStage) => {
    progress.stage = stage;
    upsertSearchAttributes([{ key: SA_STAGE, value: stage }]);
    log.info('backfill stage', { stage, dates: dates.length });
  };
  const child = { parentClosePolicy: ParentClosePolicy.TERMINATE };

  enter('ingest');
  const results = await mapBounded(dates, maxParallel, async (date): Promise<BackfillDateResult> => {
    const id = `${workflowId}/ingest/${date}`;
    progress.running.push(id);
    try {
      const s = await executeChild(ingestWorkflow, {
        ...child, workflowId: id, typedSearchAttributes: attributes('ingest'),
        // Compacted once, by the features stage, rather than by every date's child.
        args: [{ lake: input.lake, from: date, to: date, bucketCount: input.bucketCount, compact: false }],
      });
      progress.datesDone++;
      progress.files += s.files;
      progress.rowsIn += s.rowsIn;
      return { date, status: 'done', files: s.files, skippedFiles: s.skippedFiles, quarantinedFiles: s.quarantinedFiles, rowsIn: s.rowsIn };
    } catch (err) {
      progress.datesFailed++;
      const errorType = failureType(err);
      log.warn('backfill date failed', { date, childWorkflowId: id, errorType });
      return { date, status: 'failed', files: 0, skippedFiles: 0, quarantinedFiles: 0, rowsIn: 0, errorType };
    } finally {
      progress.running = progress.running.filter((r) => r !== id);
    }
  });

  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    const details: BackfillFailureDetails = { input, failed, done: results.filter((r) => r.status === 'done').map((r) => r.date) };
    upsertMemo({ summary: `${failed.length} of ${dates.length} dates failed: ${failed.map((f) => `${f.date} (${f.errorType})`).join(', ')}` });
    throw ApplicationFailure.create({
      type: BACKFILL_INCOMPLETE, nonRetryable: true, details: [details],
      message: `${failed.length} of ${dates.length} dates failed (${failed.map((f) => f.date).join(', ')}); ` +
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
      ...child, workflowId: id, typedSearchAttributes: attributes('starting'),
      memo: { model: r.model, dataset: input.dataset, families: r.families.join(','), trigger: 'backfill' },
      args: [{
        lake: input.lake, model: r.model, dataset: input.dataset, families: r.families, bucketCount: input.bucketCount, trigger: 'backfill',
        ...(r.gate ? { gate: r.gate } : {}), ...(r.seed !== undefined ? { seed: r.seed } : {}), ...(r.codeVersion ? { codeVersion: r.codeVersion } : {}),
      }],
    });
    features = retrain.features;
  } else {
    enter('features');
    const id = `${workflowId}/features`;
    progress.running = [id];
    features = await executeChild(featuresWorkflow, {
      ...child, workflowId: id, typedSearchAttributes: attributes('features'),
      args: [{ lake: input.lake, dataset: input.dataset, bucketCount: input.bucketCount }],
    });
  }
  progress.running = [];
  upsertSearchAttributes([{ key: SA_DATASET, value: `${input.dataset}@${features.version}` }]);
  enter('done');
  const files = results.reduce((a, r) => a + r.files, 0);
  const unchanged = results.reduce((a, r) => a + r.skippedFiles, 0);
  upsertMemo({
    summary: `${dates.length} dates, ${files} files (${unchanged} unchanged); features ${input.dataset}@${features.version}: ` +
      `${features.builtShards} of ${features.shards} shards rebuilt` +
      (retrain ? `; ${retrain.promotion.promoted ? `promoted ${retrain.promotion.version}` : `not promoted: ${retrain.promotion.reason}`}` : ''),
  });
  return { dates: results, features, retrain, resumeOf: input.resumeOf ?? null };
}
