/**
 * The dataset manifest of a feature version: its shards and their counts (read from the shards'
 * sidecars, so it does not depend on which run built what), the label rate over the stays with
 * full follow-up, the data end, and the ingest manifests (with their SHA-256) it was planned from.
 * Written last; then `latest.json` points the next build at this version's shards.
 */
import { InvalidInputError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import type { FeatureBuildTotals, FeaturesResult } from '../../schemas/workflows.js';
import { type ActivityDeps, readJson, writeJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { type ShardStats, shardStatsKey } from './build-shard.js';
import { mapBounded } from '../../core/map-bounded.js';
import type { FeatureManifest } from './manifest-format.js';
import { FEATURE_CODE_VERSION, readPlan } from './plan.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from './schema.js';

export interface WriteFeatureManifestInput {
  lake: string;
  dataset: string;
  version: string;
  totals: FeatureBuildTotals;
  runs: number;
}

export async function assembleManifest(store: ObjectStore, dataset: string, version: string): Promise<FeatureManifest> {
  const plan = await readPlan(store, dataset, version);
  const stats = await mapBounded(plan.buckets, 16, async (b) => {
    const key = lake.featureShard(dataset, version, b.bucket);
    const s = await readJson<ShardStats>(store, shardStatsKey(key));
    if (!s || s.inputHash !== b.inputHash) throw new InvalidInputError(`features: shard ${key} is missing or stale; build it before the manifest`);
    return s;
  });
  const previous = await readJson<FeatureManifest>(store, lake.featureManifest(dataset, version));
  const latest = await readJson<{ version: string }>(store, lake.featureLatest(dataset));
  // Kept from the first write, so a rerun compares against the same baseline.
  const previousVersion = previous ? previous.previousVersion : latest && latest.version !== version ? latest.version : undefined;
  const sum = (f: (s: ShardStats) => number) => stats.reduce((acc, s) => acc + f(s), 0);
  const rows = sum((s) => s.rows);
  const censored = sum((s) => s.censored);
  const labelledPositives = sum((s) => s.labelledPositives);
  return {
    dataset,
    version,
    featureCodeVersion: FEATURE_CODE_VERSION,
    createdAt: previous?.createdAt ?? new Date().toISOString(),
    bucketCount: plan.bucketCount,
    dataEnd: plan.dataEnd,
    rows,
    positives: sum((s) => s.positives),
    censored,
    labelledRows: rows - censored,
    labelledPositives,
    labelRate: rows > censored ? labelledPositives / (rows - censored) : 0,
    ...(previousVersion ? { previousVersion } : {}),
    features: { numeric: NUMERIC_FEATURES, categorical: CATEGORICAL_FEATURES },
    sources: { ingestManifests: plan.sources },
    shards: stats.map((s) => ({
      bucket: s.bucket,
      key: s.key,
      inputHash: s.inputHash,
      rows: s.rows,
      positives: s.positives,
      censored: s.censored,
      labelledPositives: s.labelledPositives,
      ...(s.reusedFrom ? { reusedFrom: s.reusedFrom } : {}),
    })),
  };
}

/**
 * Writes the version's manifest (rewritten identically, but for createdAt, kept from the first
 * write, on a rerun), then points `latest.json` at the version.
 */
export async function storeFeatureManifest(store: ObjectStore, dataset: string, version: string): Promise<FeatureManifest> {
  const manifest = await assembleManifest(store, dataset, version);
  await writeJson(store, lake.featureManifest(dataset, version), manifest);
  await writeJson(store, lake.featureLatest(dataset), { version, createdAt: manifest.createdAt });
  return manifest;
}

export async function writeFeatureManifest(deps: ActivityDeps, input: WriteFeatureManifestInput): Promise<Omit<FeaturesResult, 'quality' | 'compaction'>> {
  const manifest = await storeFeatureManifest(deps.lake(input.lake), input.dataset, input.version);
  const key = lake.featureManifest(input.dataset, input.version);
  const { built, reused, present } = input.totals;
  return {
    dataset: input.dataset,
    version: input.version,
    manifestKey: key,
    dataEnd: manifest.dataEnd,
    shards: manifest.shards.length,
    rows: manifest.rows,
    positives: manifest.positives,
    censored: manifest.censored,
    labelledRows: manifest.labelledRows,
    labelledPositives: manifest.labelledPositives,
    skippedShards: reused + present,
    builtShards: built,
    reusedShards: reused,
    runs: input.runs,
  };
}
