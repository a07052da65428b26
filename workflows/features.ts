import { defineQuery, setHandler } from '@temporalio/workflow';
import type { FeaturesInput, FeaturesResult } from '../schemas/workflows.js';
import { bookkeeping, shardActivity } from './activity-proxies.js';
import { mapBounded } from './fan-out.js';
import { checkBucketCount, checkLake, checkName } from './validate.js';

export interface FeaturesProgress {
  bucketsDone: number;
  bucketsTotal: number;
}
export const featuresProgressQuery = defineQuery<FeaturesProgress>('progress');

/**
 * Builds one feature shard per patient bucket (a bucket holds whole patient histories, so no
 * shard needs another). The version is a hash of the curated inputs, so a rerun on unchanged
 * inputs finds its shards already written and skips them.
 */
export async function featuresWorkflow(input: FeaturesInput): Promise<FeaturesResult> {
  checkLake(input.lake);
  checkName('dataset', input.dataset);
  checkBucketCount(input.bucketCount);
  const plan = await bookkeeping().planFeatureBuild({ lake: input.lake, dataset: input.dataset, bucketCount: input.bucketCount });
  let done = 0;
  setHandler(featuresProgressQuery, () => ({ bucketsDone: done, bucketsTotal: plan.buckets.length }));
  const shards = await mapBounded(plan.buckets, input.maxInFlight ?? 32, async (b) => {
    const shard = await shardActivity(`features/${plan.version}/${b.bucket}`).buildFeatureShard({
      lake: input.lake, dataset: input.dataset, version: plan.version, bucket: b.bucket, inputHash: b.inputHash,
    });
    done++;
    return shard;
  });
  return bookkeeping().writeFeatureManifest({ lake: input.lake, dataset: input.dataset, version: plan.version, shards });
}
