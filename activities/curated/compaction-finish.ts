/**
 * The end of a compaction: the plan's days go into the compaction state (from then on the
 * generations are known to reflect them), the plan's files are deleted, and objects in curated/
 * that nothing will ever read are swept: staged fragments no file manifest names (an ingest
 * attempt that died before its manifest) and generations no record names (a compaction attempt
 * that died before its record), once older than the grace period, so no attempt still running can
 * be about to name them.
 */
import { CURATED_FRAGMENT_RE, lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { type ActivityDeps, activityLogFields, activityPace, type Pace } from '../context.js';
import type { FileManifest } from '../ingest/outputs.js';
import type { ObjectStore } from '../io/object-store.js';
import { GENERATION_GRACE_MS } from './compact-bucket.js';
import type { CompactionPlan } from './compaction-plan.js';
import { recordCompacted } from './compaction-state.js';
import type { GenerationRecord } from './records.js';
import { getJson } from './store-json.js';

const GENERATION_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/gen-[0-9a-f]+\.parquet$/;

export interface FinishCompactionInput {
  lake: string;
  plan: string;
}

export interface SweepResult {
  fragmentsDeleted: number;
  generationsDeleted: number;
  /** Unnamed objects younger than the grace period, left for a later compaction. */
  pending: number;
}

/** The fragment keys the file manifests of one table and day name. */
async function namedOnDay(store: ObjectStore, table: string, date: string): Promise<Set<string>> {
  const named = new Set<string>();
  for await (const obj of store.list(`manifests/ingest/${table}/ingest_date=${date}/files/`)) {
    const m = await getJson<FileManifest>(store, obj.key);
    for (const f of (m?.fragments ?? []) as (FileManifest['fragments'][number] | string)[]) named.add(typeof f === 'string' ? f : f.key);
  }
  return named;
}

export async function sweepCurated(store: ObjectStore, cutoffMs: number, pace: Pace): Promise<SweepResult> {
  const result: SweepResult = { fragmentsDeleted: 0, generationsDeleted: 0, pending: 0 };
  const fragments = new Map<string, string[]>();
  const generations = new Map<string, string[]>();
  for await (const obj of store.list('curated/')) {
    await pace();
    const fragment = CURATED_FRAGMENT_RE.exec(obj.key);
    const generation = GENERATION_RE.exec(obj.key);
    if (!fragment && !generation) continue;
    if (obj.lastModified.getTime() >= cutoffMs) {
      result.pending += 1;
      continue;
    }
    const [map, group] = fragment ? [fragments, `${fragment[1]}|${fragment[3]}`] : [generations, `${generation![1]}|${generation![2]}`];
    map.set(group, [...(map.get(group) ?? []), obj.key]);
  }
  for (const [group, keys] of fragments) {
    const [table, date] = group.split('|') as [string, string];
    const named = await namedOnDay(store, table, date);
    for (const key of keys.filter((k) => !named.has(k))) {
      await store.delete(key);
      result.fragmentsDeleted++;
      await pace();
    }
  }
  for (const [group, keys] of generations) {
    const [table, bucket] = group.split('|') as [RawTable, string];
    if (!RAW_TABLES.includes(table)) continue;
    const record = await getJson<GenerationRecord>(store, lake.curatedRecord(table, Number(bucket)));
    const live = new Set([record?.key, ...(record?.superseded ?? []).map((s) => s.key)]);
    for (const key of keys.filter((k) => !live.has(k))) {
      await store.delete(key);
      result.generationsDeleted++;
    }
  }
  return result;
}

export interface CompactionFinish {
  dirtyDays: number;
  files: number;
  sweep: SweepResult;
}

export async function finishCompaction(deps: ActivityDeps, input: FinishCompactionInput): Promise<CompactionFinish> {
  const store = deps.lake(input.lake);
  const pace = activityPace(() => ({ step: 'finish compaction' }));
  const plan = await getJson<CompactionPlan>(store, lake.compactionPlan(input.plan));
  // plan.json goes last, after the state is recorded: without it, an earlier attempt finished.
  if (!plan) return { dirtyDays: 0, files: 0, sweep: { fragmentsDeleted: 0, generationsDeleted: 0, pending: 0 } };
  await recordCompacted(store, plan);
  const planKeys: string[] = [];
  for await (const obj of store.list(lake.compactionPlanPrefix(input.plan))) planKeys.push(obj.key);
  // plan.json last: a retry after a partial delete still finds the plan.
  for (const key of planKeys.sort((a, b) => Number(a.endsWith('/plan.json')) - Number(b.endsWith('/plan.json')))) await store.delete(key);
  const sweep = await sweepCurated(store, Date.now() - GENERATION_GRACE_MS, pace);
  deps.logger.info('compaction done', { ...activityLogFields(), plan: input.plan, dirtyDays: plan.dirtyDays, ...sweep });
  return { dirtyDays: plan.dirtyDays, files: plan.files, sweep };
}
