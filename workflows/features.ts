import { continueAsNew, defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import { resolveQualityLimits } from '../schemas/quality.js';
import type { FeatureBuildTotals, FeaturePlanSummary, FeaturesInput, FeaturesResult } from '../schemas/workflows.js';
import { featureBookkeeping, featureShardActivity } from './activity-proxies.js';
import { compactCurated } from './compact.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE, mapBounded } from './fan-out.js';
import { SHARD_HEARTBEAT_SECONDS } from './timeouts.js';
import { checkBucketCount, checkLake, checkName, invalid, checkActor } from './validate.js';

export interface FeaturesProgress extends FeatureBuildTotals {
  version: string;
  bucketsTotal: number;
  bucketsDone: number;
  /** Index stays in the shards done so far. */
  rows: number;
  /** Runs of the workflow so far (1 + continue-as-new count). */
  runs: number;
}
export const featuresProgressQuery = defineQuery<FeaturesProgress>('progress');

const PAGE_SIZE = 256;
const ZERO: FeatureBuildTotals = { built: 0, reused: 0, present: 0 };

/**
 * Builds one feature shard per patient bucket (a bucket holds whole patient histories, so no
 * shard needs another). The plan, written to the lake, gives the version (a hash of the curated
 * inputs and the data end) and, per bucket, an earlier version's shard of the same inputs when
 * there is one: after a backfill only the buckets it touched are recomputed, the rest copied.
 * Buckets are read from the plan a page at a time and fanned out in a bounded window; between
 * pages the run continues as new once its history grows long, carrying the plan and the counts.
 */
export async function featuresWorkflow(input: FeaturesInput): Promise<FeaturesResult> {
  checkActor(input.actor, 'build-features');
  checkLake(input.lake);
  checkName('dataset', input.dataset);
  checkBucketCount(input.bucketCount);
  const pageSize = input.pageSize ?? PAGE_SIZE;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 4096)) invalid(`pageSize must be a whole number from 1 to 4096, got ${pageSize}`);
  const maxInFlight = input.maxInFlight ?? 32;
  const { limits, error } = resolveQualityLimits(input.quality);
  if (error) invalid(error);
  const historyLimit = input.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE;
  const heartbeatSeconds = input.shardHeartbeatSeconds ?? SHARD_HEARTBEAT_SECONDS;
  if (!(Number.isInteger(heartbeatSeconds) && heartbeatSeconds >= 1 && heartbeatSeconds <= 3600)) {
    invalid(`shardHeartbeatSeconds must be a whole number from 1 to 3600, got ${heartbeatSeconds}`);
  }
  const { lake, dataset } = input;
  const cursor = input.cursor;
  const runs = (cursor?.runs ?? 0) + 1;
  const totals = { ...(cursor?.totals ?? ZERO) };
  let offset = cursor?.offset ?? 0;
  let rows = cursor?.rows ?? 0;
  let plan: FeaturePlanSummary | undefined = cursor?.plan;
  setHandler(featuresProgressQuery, (): FeaturesProgress => ({
    version: plan?.version ?? '',
    bucketsTotal: plan?.buckets ?? 0,
    bucketsDone: offset,
    rows,
    runs,
    ...totals,
  }));

  // Whatever was ingested is in the generations before the plan reads them (a no-op on a compacted zone).
  const compaction = cursor?.compaction ?? (await compactCurated({ lake, bucketCount: input.bucketCount, actor: input.actor }, heartbeatSeconds));
  plan ??= await featureShardActivity('features/plan', heartbeatSeconds).planFeatureBuild({ lake, dataset, bucketCount: input.bucketCount });
  const { version, dataEnd } = plan;
  while (offset < plan.buckets) {
    const page = await featureBookkeeping().readFeaturePlanPage({ lake, dataset, version, offset, limit: pageSize });
    if (page.length === 0) break;
    await mapBounded(page, maxInFlight, async (b) => {
      const shard = await featureShardActivity(`features/${version}/${b.bucket}`, heartbeatSeconds).buildFeatureShard({
        lake,
        dataset,
        version,
        dataEnd,
        ...b,
      });
      if (shard.reusedFrom) totals.reused++;
      else if (shard.skipped) totals.present++;
      else totals.built++;
      rows += shard.rows;
      offset++;
    });
    const info = workflowInfo();
    if (offset < plan.buckets && (info.continueAsNewSuggested || info.historyLength > historyLimit)) {
      await continueAsNew<typeof featuresWorkflow>({ ...input, cursor: { plan, offset, totals, rows, runs, compaction } });
    }
  }
  const result = await featureBookkeeping().writeFeatureManifest({ lake, dataset, version, runs, totals });
  const quality = await featureShardActivity(`features/${version}/quality`, heartbeatSeconds).checkFeatureQuality({ lake, dataset, version, limits });
  return { ...result, compaction, quality };
}
