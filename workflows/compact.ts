import type { CompactInput, CompactionSummary } from '../schemas/workflows.js';
import { shardActivity } from './activity-proxies.js';
import { mapBounded } from './fan-out.js';
import { checkBucketCount, checkLake, checkActor } from './validate.js';

/**
 * Folds every ingest day the curated generations do not reflect yet into them: one plan, one
 * activity per bucket (each rewrites the generations of its tables that changed), one finish that
 * records the days compacted and sweeps what nothing reads. Runs in the history of the workflow
 * that calls it (ingest, features), or as `compactWorkflow` (`carepipe lake compact`). A clean
 * zone costs the plan's listing and nothing else.
 */
export async function compactCurated(input: CompactInput, heartbeatSeconds?: number): Promise<CompactionSummary> {
  const shard = (id: string) => shardActivity(id, heartbeatSeconds);
  const planned = await shard('compact/plan').planCompaction({ lake: input.lake, bucketCount: input.bucketCount });
  const summary: CompactionSummary = {
    plan: planned.plan,
    dirtyDays: planned.dirtyDays,
    files: planned.files,
    fragmentsFolded: 0,
    generationsWritten: 0,
    generationsUnchanged: 0,
    filesReused: 0,
    rows: 0,
    bytes: 0,
    fragmentsDeleted: 0,
    generationsDeleted: 0,
  };
  if (!planned.plan) return summary;
  await mapBounded(planned.buckets, input.maxInFlight ?? 32, async (bucket) => {
    const r = await shard(`compact/${planned.plan}/${bucket}`).compactBucket({ lake: input.lake, plan: planned.plan, bucket });
    for (const t of r.tables) {
      summary.fragmentsFolded += t.folded;
      summary.filesReused += t.reused;
      if (t.changed) summary.generationsWritten++;
      else if (t.files > 0) summary.generationsUnchanged++;
      summary.rows += t.rows;
      summary.bytes += t.bytes;
    }
    summary.fragmentsDeleted += r.fragmentsDeleted;
    summary.generationsDeleted += r.generationsDeleted;
  });
  const finish = await shard(`compact/${planned.plan}/finish`).finishCompaction({ lake: input.lake, plan: planned.plan });
  summary.fragmentsDeleted += finish.sweep.fragmentsDeleted;
  summary.generationsDeleted += finish.sweep.generationsDeleted;
  return summary;
}

/** `carepipe lake compact`: compacts a whole lake on its own. */
export async function compactWorkflow(input: CompactInput): Promise<CompactionSummary> {
  checkActor(input.actor, 'ingest');
  checkLake(input.lake);
  checkBucketCount(input.bucketCount);
  return compactCurated(input);
}
