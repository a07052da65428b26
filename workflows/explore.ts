import { continueAsNew } from '@temporalio/workflow';
import type { ExploreInput, ProfileResult } from '../activities/reports/explore.js';
import { featureBookkeeping, featureShardActivity } from './activity-proxies.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapUntilHistoryFull } from './fan-out.js';
import type { Identity } from '../core/identity/roles.js';
import { checkActor, checkLake, checkName, invalid } from './validate.js';

export interface ExploreWorkflowInput extends Omit<ExploreInput, 'version'> {
  /** Who asks: a profile reads the feature data, so it needs `build-features`. */
  actor: Identity;
  /** Absent: the dataset's latest version. */
  version?: string;
  maxInFlight?: number;
  historyLimit?: number;
  /** Carried across continue-as-new: the shard list and how far the map got. */
  cursor?: { buckets: number[]; next: number; runs: number };
}

/**
 * The dataset profile (`carepipe explore`) as a map-reduce like fitWorkflow: one partial per
 * feature shard, then one merge that writes reports/<dataset>/<version>/profile.{html,json}. The
 * map continues as new when its history is full, so thousands of shards fit.
 */
export async function exploreWorkflow(input: ExploreWorkflowInput): Promise<ProfileResult & { version: string }> {
  checkActor(input.actor, 'build-features');
  checkLake(input.lake);
  checkName('dataset', input.dataset);
  if (input.version !== undefined) checkName('version', input.version);
  const maxInFlight = input.maxInFlight ?? 32;
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= 1000))
    invalid(`maxInFlight must be a whole number from 1 to 1000, got ${maxInFlight}`);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  const version = input.version ?? (await featureBookkeeping().latestFeatureVersion({ lake: input.lake, dataset: input.dataset }));
  const target = { lake: input.lake, dataset: input.dataset, version };
  const buckets = input.cursor?.buckets ?? (await featureBookkeeping().listFeatureShards(target));
  const runs = (input.cursor?.runs ?? 0) + 1;
  const next = await mapUntilHistoryFull(buckets, input.cursor?.next ?? 0, maxInFlight, historyLimit, async (bucket) => {
    await featureShardActivity(`explore/${version}/${bucket}`).profileFeatureShard({ ...target, bucket });
  });
  if (next < buckets.length) await continueAsNew<typeof exploreWorkflow>({ ...input, version, cursor: { buckets, next, runs } });
  return { ...(await featureBookkeeping().writeDatasetProfile(target)), version };
}
