/**
 * The features reduce step for one bucket: its curated generations -> one feature shard. The shard
 * and its stats sidecar sit at keys under the content-derived dataset version, and the sidecar is
 * written last, so a rerun finds a complete shard and skips it. A bucket whose inputs an earlier
 * version already built from (same input hash) is copied from there, not recomputed. A build reads
 * the generations its bucket's plan names, and pauses every few tens of milliseconds of decoding and
 * computing (activityPace): the worker's one JavaScript thread also runs the other shards'
 * heartbeats and the workflow tasks.
 */
import { lake } from '../../data-lake/layout.js';
import type { FeatureShardResult, PlannedBucket } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, activityPace, heartbeat, type Pace, readJson, runPaced, writeJson } from '../context.js';
import { toTable } from '../ingest/columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { writeParquet } from '../io/parquet.js';
import { readBucketTable } from './read-bucket.js';
import { type BucketPlan, readBucketPlan } from './plan.js';
import { type FeatureFrame, readmissionFeatures } from './readmission.js';

export interface BuildFeatureShardInput extends PlannedBucket {
  lake: string;
  dataset: string;
  version: string;
  /** The plan's data end (YYYY-MM-DD). */
  dataEnd: string;
}

export interface ShardStats {
  bucket: number;
  key: string;
  inputHash: string;
  rows: number;
  positives: number;
  censored: number;
  labelledPositives: number;
  labRows: number;
  /** The version the shard was copied from, when it was. */
  reusedFrom?: string;
}

export const shardStatsKey = (shardKey: string) => shardKey.replace(/\.parquet$/, '.stats.json');

/** Midnight UTC starting a YYYY-MM-DD date, epoch ms; NaN for ''. */
export const dateStartMs = (date: string) => (date ? Date.parse(`${date}T00:00:00Z`) : Number.NaN);

/** Reads the curated generations a bucket's plan names and computes its feature frame. */
export async function computeBucketFeatures(store: ObjectStore, planned: BucketPlan, dataEnd: string, pace: Pace): Promise<FeatureFrame> {
  const { parts: fragments } = planned;
  const [patients, encounters, diagnoses, labs] = await Promise.all([
    readBucketTable(store, 'patients', fragments.patients, pace),
    readBucketTable(store, 'encounters', fragments.encounters, pace),
    readBucketTable(store, 'diagnoses', fragments.diagnoses, pace),
    readBucketTable(store, 'lab_results', fragments.lab_results, pace),
  ]);
  return runPaced(readmissionFeatures({ patients, encounters, diagnoses, labs }, { dataEndMs: dateStartMs(dataEnd) }), pace);
}

const resultOf = (s: ShardStats, skipped: boolean, labRows: number): FeatureShardResult => ({
  bucket: s.bucket,
  key: s.key,
  rows: s.rows,
  positives: s.positives,
  censored: s.censored,
  skipped,
  labRows,
  ...(s.reusedFrom ? { reusedFrom: s.reusedFrom } : {}),
});

/** The shard of one bucket: found complete, copied from an earlier version, or built. */
export async function buildShard(store: ObjectStore, input: Omit<BuildFeatureShardInput, 'lake'>): Promise<FeatureShardResult> {
  const key = lake.featureShard(input.dataset, input.version, input.bucket);
  const done = await readJson<ShardStats>(store, shardStatsKey(key));
  // Complete in this version already (a rerun): found, whether it was built or copied then.
  if (done && done.inputHash === input.inputHash) return resultOf({ ...done, reusedFrom: undefined }, true, 0);

  if (input.reuse) {
    const earlier = await readJson<ShardStats>(store, shardStatsKey(input.reuse.key));
    if (earlier && earlier.inputHash === input.inputHash) {
      heartbeat({ step: 'copy', bucket: input.bucket });
      await store.put(key, await store.get(input.reuse.key));
      const stats: ShardStats = { ...earlier, key, reusedFrom: input.reuse.version };
      await writeJson(store, shardStatsKey(key), stats);
      return resultOf(stats, true, 0);
    }
  }

  const planned = await readBucketPlan(store, input.dataset, input.version, input.bucket, input.inputHash);
  const step = { step: 'build', bucket: input.bucket };
  heartbeat(step);
  const frame = await computeBucketFeatures(
    store,
    planned,
    input.dataEnd,
    activityPace(() => step),
  );
  await store.put(key, writeParquet(toTable(frame.columns)));
  const stats: ShardStats = {
    bucket: input.bucket,
    key,
    inputHash: input.inputHash,
    rows: frame.rows,
    positives: frame.positives,
    censored: frame.censored,
    labelledPositives: frame.labelledPositives,
    labRows: frame.labRows,
  };
  // The sidecar is written last: its presence means the shard is complete.
  await writeJson(store, shardStatsKey(key), stats);
  return resultOf(stats, false, frame.labRows);
}

export async function buildFeatureShard(deps: ActivityDeps, input: BuildFeatureShardInput): Promise<FeatureShardResult> {
  const result = await buildShard(deps.lake(input.lake), input);
  deps.logger.info('feature shard', { ...activityLogFields(), bucket: input.bucket, rows: result.rows, skipped: result.skipped, reused: !!result.reusedFrom });
  return result;
}
