/**
 * The fit map-reduce as activities: `fitFeatureShard` computes one shard's partial statistics over
 * its training patients' labelled stays (the split is a function of the pseudonym, so every
 * shard agrees with the trainer), `mergeFeatureFit` adds the partials up and writes
 * `preprocessing_pipeline.json` and `feature_mapping.json` under the split's fit prefix, where
 * the trainer reads them by key. Partials carry aggregates only and stay in the lake.
 */
import { InvalidInputError } from '../../core/errors.js';
import { bucketLabel, lake } from '../../data-lake/layout.js';
import type { FeatureFitResult } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, readJson, writeJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet } from '../io/parquet.js';
import { isTestPatient, labelledRows } from '../train/feature-set.js';
import { type ShardStats, shardStatsKey } from './build-shard.js';
import { type FitPartial, finalizePipeline, mergePartials, partialOf } from './fit-stats.js';
import type { FeatureManifest } from './manifest-format.js';
import { mapBounded } from '../../core/map-bounded.js';
import { featureMapping } from './pipeline.js';

/** Bump when partials or their finalisation change. */
export const FIT_CODE_VERSION = 'fit-1';

export interface FitSplit {
  lake: string;
  dataset: string;
  version: string;
  testFraction: number;
  seed: number;
}

export interface FitFeatureShardInput extends FitSplit {
  bucket: number;
}

interface StoredPartial {
  fitCodeVersion: string;
  shardInputHash: string;
  partial: FitPartial;
}

/** A key-safe tag of a split: `test-0.2-seed-1`. */
export function splitTag(testFraction: number, seed: number): string {
  return `test-${testFraction}-seed-${seed}`;
}

export function fitKeys(s: Omit<FitSplit, 'lake'>) {
  const prefix = lake.featureFitPrefix(s.dataset, s.version, splitTag(s.testFraction, s.seed));
  return {
    partial: (bucket: number) => `${prefix}bucket=${bucketLabel(bucket)}.json`,
    pipeline: `${prefix}preprocessing_pipeline.json`,
    mapping: `${prefix}feature_mapping.json`,
  };
}

async function readManifest(store: ObjectStore, dataset: string, version: string): Promise<FeatureManifest> {
  const manifest = await readJson<FeatureManifest>(store, lake.featureManifest(dataset, version));
  if (!manifest) throw new InvalidInputError(`fit: no manifest for ${dataset}@${version}; build the features first`);
  return manifest;
}

/** The bucket numbers of a feature version's shards. */
export async function listFeatureShards(deps: ActivityDeps, input: Omit<FitSplit, 'testFraction' | 'seed'>): Promise<number[]> {
  return (await readManifest(deps.lake(input.lake), input.dataset, input.version)).shards.map((s) => s.bucket);
}

/** One shard's partial: training patients only, stays with full follow-up only. */
export async function shardPartial(store: ObjectStore, shardKey: string, testFraction: number, seed: number): Promise<FitPartial> {
  const set = labelledRows(readParquet(await store.get(shardKey), { source: shardKey }));
  const train: number[] = [];
  for (let r = 0; r < set.rows; r++) if (!isTestPatient(set.patientKeys[r] ?? null, testFraction, seed)) train.push(r);
  return partialOf(set.columns, Uint32Array.from(train));
}

export async function fitFeatureShard(deps: ActivityDeps, input: FitFeatureShardInput): Promise<{ bucket: number; rows: number }> {
  const store = deps.lake(input.lake);
  // The shard's sidecar, not the manifest: a manifest of thousands of shards is not read thousands of times.
  const shardKey = lake.featureShard(input.dataset, input.version, input.bucket);
  const shard = await readJson<ShardStats>(store, shardStatsKey(shardKey));
  if (!shard) throw new InvalidInputError(`fit: ${input.dataset}@${input.version} has no complete shard for bucket ${input.bucket}`);
  const key = fitKeys(input).partial(input.bucket);
  const done = await readJson<StoredPartial>(store, key);
  if (done && done.fitCodeVersion === FIT_CODE_VERSION && done.shardInputHash === shard.inputHash) return { bucket: input.bucket, rows: done.partial.rows };
  heartbeat({ step: 'partial', bucket: input.bucket });
  const partial = await shardPartial(store, shard.key, input.testFraction, input.seed);
  await writeJson(store, key, { fitCodeVersion: FIT_CODE_VERSION, shardInputHash: shard.inputHash, partial } satisfies StoredPartial);
  return { bucket: input.bucket, rows: partial.rows };
}

export async function mergeFeatureFit(deps: ActivityDeps, input: FitSplit): Promise<FeatureFitResult> {
  const store = deps.lake(input.lake);
  const manifest = await readManifest(store, input.dataset, input.version);
  const keys = fitKeys(input);
  const partials = await mapBounded(manifest.shards, 16, async (s) => {
    const stored = await readJson<StoredPartial>(store, keys.partial(s.bucket));
    if (!stored || stored.fitCodeVersion !== FIT_CODE_VERSION || stored.shardInputHash !== s.inputHash) {
      throw new InvalidInputError(`fit: the partial of bucket ${s.bucket} is missing or stale; fit every shard before merging`);
    }
    return stored.partial;
  });
  const pipeline = finalizePipeline(mergePartials(partials));
  if (pipeline.fittedRows === 0) throw new InvalidInputError(`fit: ${input.dataset}@${input.version} has no training stay with full follow-up`);
  await writeJson(store, keys.mapping, featureMapping(pipeline));
  await writeJson(store, keys.pipeline, pipeline);
  deps.logger.info('pipeline fitted', { ...activityLogFields(), rows: pipeline.fittedRows, width: pipeline.width });
  return { pipelineKey: keys.pipeline, mappingKey: keys.mapping, rows: pipeline.fittedRows, width: pipeline.width };
}
