/**
 * The feature build of a whole lake in-process (local, no Temporal), for `npm run bench` and tests: compaction, plan, every shard
 * (a few at a time), manifest; the same functions the activities run, without Temporal. Reports
 * lab result rows read a second, the stage's natural unit of work (labs are ~95% of its rows).
 */
import { performance } from 'node:perf_hooks';
import type { ObjectStore } from '../io/object-store.js';
import { mapBounded } from '../../core/map-bounded.js';
import { compactLake } from '../curated/local-compact.js';
import { buildShard } from './build-shard.js';
import { storeFeatureManifest } from './manifest.js';
import { planFeatures, writePlan } from './plan.js';

export interface LakeFeatureBuild {
  version: string;
  shards: number;
  built: number;
  rows: number;
  labRows: number;
  seconds: number;
  labRowsPerSecond: number;
}

export async function buildLakeFeatures(
  store: ObjectStore,
  options: { dataset: string; bucketCount: number; concurrency?: number; pseudonymKeyId?: string },
): Promise<LakeFeatureBuild> {
  const started = performance.now();
  await compactLake(store, { bucketCount: options.bucketCount, pseudonymKeyId: options.pseudonymKeyId ?? 'local', concurrency: options.concurrency });
  const planned = await planFeatures(store, options);
  await writePlan(store, planned);
  const { plan } = planned;
  const results = await mapBounded(plan.buckets, options.concurrency ?? 2, (b) =>
    buildShard(store, {
      dataset: options.dataset,
      version: plan.version,
      dataEnd: plan.dataEnd,
      bucket: b.bucket,
      inputHash: b.inputHash,
      ...(b.reuse ? { reuse: b.reuse } : {}),
    }),
  );
  const manifest = await storeFeatureManifest(store, options.dataset, plan.version);
  const seconds = (performance.now() - started) / 1000;
  const labRows = results.reduce((s, r) => s + r.labRows, 0);
  return {
    version: plan.version,
    shards: results.length,
    built: results.filter((r) => !r.skipped).length,
    rows: manifest.rows,
    labRows,
    seconds,
    labRowsPerSecond: labRows / seconds,
  };
}
