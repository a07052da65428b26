import { continueAsNew } from '@temporalio/workflow';
import type { ScoreInput, ScoreResult } from '../schemas/score.js';
import { bookkeeping, shardActivity } from './activity-proxies.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapUntilHistoryFull } from './fan-out.js';
import { checkActor, checkLake, checkName, invalid } from './validate.js';

/**
 * Batch scoring (`carepipe score`, or a schedule): plans once (model version, dataset version,
 * threshold: a champion moving mid-run does not mix versions), then one activity per feature
 * bucket with at most `maxInFlight` in flight, then the manifest. Like the fit, thousands of
 * buckets run as a chain of runs that continue as new carrying the plan and the position. Reruns
 * write nothing: the activities skip buckets already scored (activities/score/score.ts).
 */
export async function scoreWorkflow(input: ScoreInput): Promise<ScoreResult> {
  checkActor(input.actor, 'predict');
  checkLake(input.lake);
  checkName('model', input.model);
  if (input.dataset !== undefined) checkName('dataset', input.dataset);
  for (const [what, v] of [
    ['version', input.version],
    ['datasetVersion', input.datasetVersion],
  ] as const)
    if (v !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(v)) invalid(`${what} must be a version id (letters, digits, _ . -), got "${v}"`);
  if (input.threshold !== undefined && !(input.threshold >= 0 && input.threshold <= 1))
    invalid(`threshold must be a probability from 0 to 1, got ${input.threshold}`);
  const maxInFlight = input.maxInFlight ?? 16;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= 1000))
    invalid(`maxInFlight must be a whole number from 1 to 1000, got ${maxInFlight}`);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  if (!(Number.isInteger(historyLimit) && historyLimit >= 1)) invalid(`historyLimit must be a positive whole number, got ${historyLimit}`);

  const plan = input.cursor?.plan ?? (await bookkeeping().planScoring(input));
  const runs = (input.cursor?.runs ?? 0) + 1;
  let written = 0;
  const { buckets, ...scoring } = plan;
  const next = await mapUntilHistoryFull(buckets, input.cursor?.next ?? 0, maxInFlight, historyLimit, async (bucket) => {
    const r = await shardActivity(`score/${plan.version}/${plan.datasetVersion}/${bucket}`).scoreBucket({
      lake: scoring.lake,
      model: scoring.model,
      version: scoring.version,
      dataset: scoring.dataset,
      datasetVersion: scoring.datasetVersion,
      threshold: scoring.threshold,
      bucket,
    });
    if (r.written) written++;
  });
  const writtenBefore = input.cursor?.written ?? 0;
  if (next < buckets.length) await continueAsNew<typeof scoreWorkflow>({ ...input, cursor: { plan, next, runs, written: writtenBefore + written } });
  return bookkeeping().writeScoreManifest({ ...plan, bucketsWritten: writtenBefore + written });
}
