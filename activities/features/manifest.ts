import { lake } from '../../data-lake/layout.js';
import type { FeatureShardResult, FeaturesResult } from '../../schemas/workflows.js';
import { type ActivityDeps, readJson, writeJson } from '../context.js';
import { FEATURE_CODE_VERSION } from './plan.js';

export interface WriteFeatureManifestInput {
  lake: string;
  dataset: string;
  version: string;
  shards: FeatureShardResult[];
}

export interface FeatureManifest {
  dataset: string;
  version: string;
  featureCodeVersion: string;
  createdAt: string;
  rows: number;
  positives: number;
  labelRate: number;
  shards: { bucket: number; key: string; rows: number; positives: number }[];
}

/** The dataset manifest; rewritten identically (but for createdAt, kept from the first write) on a rerun. */
export async function writeFeatureManifest(deps: ActivityDeps, input: WriteFeatureManifestInput): Promise<FeaturesResult> {
  const store = deps.lake(input.lake);
  const key = lake.featureManifest(input.dataset, input.version);
  const previous = await readJson<FeatureManifest>(store, key);
  const shards = [...input.shards].sort((a, b) => a.bucket - b.bucket).map(({ bucket, key: k, rows, positives }) => ({ bucket, key: k, rows, positives }));
  const rows = shards.reduce((s, x) => s + x.rows, 0);
  const positives = shards.reduce((s, x) => s + x.positives, 0);
  const manifest: FeatureManifest = {
    dataset: input.dataset, version: input.version, featureCodeVersion: FEATURE_CODE_VERSION,
    createdAt: previous?.createdAt ?? new Date().toISOString(), rows, positives, labelRate: rows ? positives / rows : 0, shards,
  };
  await writeJson(store, key, manifest);
  return {
    dataset: input.dataset, version: input.version, manifestKey: key, shards: shards.length, rows, positives,
    skippedShards: input.shards.filter((s) => s.skipped).length,
  };
}
