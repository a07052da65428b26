/**
 * The features reduce step for one bucket: its curated fragments -> one feature shard. The shard
 * and its stats sidecar sit at keys under the content-derived dataset version, so a rerun finds
 * them and skips the bucket.
 */
import { lake } from '../../data-lake/layout.js';
import type { FeatureShardResult } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, readJson, writeJson } from '../context.js';
import { toTable } from '../ingest/columns.js';
import { writeParquet } from '../io/parquet.js';
import { readBucketTable } from './read-bucket.js';
import { buildReadmissionFeatures } from './readmission.js';

export interface BuildFeatureShardInput {
  lake: string;
  dataset: string;
  version: string;
  bucket: number;
  inputHash: string;
}

interface ShardStats {
  bucket: number;
  key: string;
  rows: number;
  positives: number;
  inputHash: string;
}

const statsKey = (shardKey: string) => shardKey.replace(/\.parquet$/, '.stats.json');

export async function buildFeatureShard(deps: ActivityDeps, input: BuildFeatureShardInput): Promise<FeatureShardResult> {
  const store = deps.lake(input.lake);
  const key = lake.featureShard(input.dataset, input.version, input.bucket);
  const done = await readJson<ShardStats>(store, statsKey(key));
  if (done && done.inputHash === input.inputHash) {
    return { bucket: input.bucket, key, rows: done.rows, positives: done.positives, skipped: true };
  }
  heartbeat({ step: 'read', bucket: input.bucket });
  const [patients, encounters, diagnoses, labs] = await Promise.all([
    readBucketTable(store, 'patients', input.bucket),
    readBucketTable(store, 'encounters', input.bucket),
    readBucketTable(store, 'diagnoses', input.bucket),
    readBucketTable(store, 'lab_results', input.bucket),
  ]);
  heartbeat({ step: 'compute', bucket: input.bucket });
  const { columns, rows, positives } = buildReadmissionFeatures({ patients, encounters, diagnoses, labs });
  await store.put(key, writeParquet(toTable(columns)));
  // The sidecar is written last: its presence means the shard is complete.
  await writeJson(store, statsKey(key), { bucket: input.bucket, key, rows, positives, inputHash: input.inputHash } satisfies ShardStats);
  deps.logger.info('feature shard built', { ...activityLogFields(), bucket: input.bucket, rows });
  return { bucket: input.bucket, key, rows, positives, skipped: false };
}
