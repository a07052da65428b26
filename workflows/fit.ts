import { continueAsNew, executeChild, workflowInfo } from '@temporalio/workflow';
import type { FeatureFitResult, FitInput } from '../schemas/workflows.js';
import { featureBookkeeping, featureShardActivity } from './activity-proxies.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapUntilHistoryFull } from './fan-out.js';
import { checkLake, checkName, invalid } from './validate.js';

/**
 * Fits the preprocessing pipeline on the training patients of a split as a map-reduce of
 * activities: one partial per shard, then one merge that writes the pipeline where the trainer
 * reads it. A feature version may have thousands of shards, so the map runs as a chain of runs:
 * each starts shards only while its history has room for those in flight, then continues as new
 * carrying the shard list and the position (`cursor`); the last run merges.
 */
export async function fitWorkflow(input: FitInput): Promise<FeatureFitResult> {
  checkLake(input.lake);
  checkName('dataset', input.dataset);
  const maxInFlight = input.maxInFlight ?? 32;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= 1000))
    invalid(`maxInFlight must be a whole number from 1 to 1000, got ${maxInFlight}`);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  if (!(Number.isInteger(historyLimit) && historyLimit >= 1)) invalid(`historyLimit must be a positive whole number, got ${historyLimit}`);
  const split = { lake: input.lake, dataset: input.dataset, version: input.featuresVersion, testFraction: input.testFraction, seed: input.seed };
  const buckets =
    input.cursor?.buckets ?? (await featureBookkeeping().listFeatureShards({ lake: input.lake, dataset: input.dataset, version: input.featuresVersion }));
  const runs = (input.cursor?.runs ?? 0) + 1;
  const next = await mapUntilHistoryFull(buckets, input.cursor?.next ?? 0, maxInFlight, historyLimit, async (bucket) => {
    await featureShardActivity(`features-fit/${input.featuresVersion}/${bucket}`).fitFeatureShard({ ...split, bucket });
  });
  if (next < buckets.length) await continueAsNew<typeof fitWorkflow>({ ...input, cursor: { buckets, next, runs } });
  return featureBookkeeping().mergeFeatureFit(split);
}

/**
 * The fit of the running workflow's split (trainWorkflow's), as the child `<id>/fit`: the shards'
 * events stay in the child's chain of runs, two of them in the caller's history.
 */
export async function fitPreprocessing(input: FitInput): Promise<FeatureFitResult> {
  return executeChild(fitWorkflow, { workflowId: `${workflowInfo().workflowId}/fit`, args: [input] });
}
