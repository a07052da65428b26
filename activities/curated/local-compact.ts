/**
 * Compaction of a whole lake in-process (no Temporal), for the local feature build, tests and the
 * bench: the same functions the activities run, plan, buckets a few at a time, finish.
 */
import { mapBounded } from '../../core/map-bounded.js';
import type { Pace } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { type CompactBucketResult, compactBucketTables, GENERATION_GRACE_MS } from './compact-bucket.js';
import { sweepCurated, type SweepResult } from './compaction-finish.js';
import { planCompactionWork } from './compaction-plan.js';
import { recordCompacted } from './compaction-state.js';

const noPause: Pace = async () => undefined;

export interface LocalCompaction {
  dirtyDays: number;
  buckets: CompactBucketResult[];
  sweep: SweepResult;
}

export async function compactLake(
  store: ObjectStore,
  options: { bucketCount: number; pseudonymKeyId: string; concurrency?: number; graceMs?: number },
): Promise<LocalCompaction> {
  const work = await planCompactionWork(store, options.bucketCount, options.pseudonymKeyId, noPause);
  if (!work) return { dirtyDays: 0, buckets: [], sweep: { fragmentsDeleted: 0, generationsDeleted: 0, pending: 0 } };
  const buckets = work.plan.dirtyDays === 0 ? [] : await mapBounded(work.buckets, options.concurrency ?? 4, (b) => compactBucketTables(store, b, noPause));
  await recordCompacted(store, work.plan);
  const sweep = await sweepCurated(store, Date.now() - (options.graceMs ?? GENERATION_GRACE_MS), noPause);
  return { dirtyDays: work.plan.dirtyDays, buckets, sweep };
}
