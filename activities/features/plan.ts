import { bucketLabel, RAW_TABLES } from '../../data-lake/layout.js';
import type { CuratedBucket } from '../../schemas/workflows.js';
import { type ActivityDeps, sha256Hex } from '../context.js';

/** Bump when the features computed from the same curated inputs change. */
export const FEATURE_CODE_VERSION = 'readmission-features-1';

export interface PlanFeatureBuildInput {
  lake: string;
  dataset: string;
  bucketCount: number;
}

export interface FeatureBuildPlan {
  version: string;
  buckets: CuratedBucket[];
}

const FRAGMENT_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/ingest_date=[^/]+\/part-[0-9a-f]+\.parquet$/;

/**
 * Lists the curated fragments per bucket. A bucket's input hash covers its fragment keys (content
 * hashes themselves); the dataset version covers every bucket's hash, the bucket count and the
 * feature code version, so the same inputs always give the same version.
 */
export async function planFeatureBuild(deps: ActivityDeps, input: PlanFeatureBuildInput): Promise<FeatureBuildPlan> {
  const store = deps.lake(input.lake);
  const byBucket = new Map<number, string[]>();
  for (const table of RAW_TABLES) {
    for await (const obj of store.list(`curated/${table}/`)) {
      const m = FRAGMENT_RE.exec(obj.key);
      if (!m) continue;
      const bucket = Number(m[2]);
      if (bucket >= input.bucketCount) continue; // written under another bucket count: not this layout
      byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), obj.key]);
    }
  }
  const buckets = [...byBucket.entries()]
    .sort(([a], [b]) => a - b)
    .map(([bucket, keys]) => ({ bucket, inputHash: sha256Hex(bucketLabel(bucket), ...keys.sort()) }));
  const version = `v-${sha256Hex(FEATURE_CODE_VERSION, String(input.bucketCount), ...buckets.map((b) => b.inputHash)).slice(0, 16)}`;
  return { version, buckets };
}
