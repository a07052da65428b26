/**
 * The end of a compaction: the plan's days go into the compaction state (from then on the
 * generations are known to reflect them), the plan's files are deleted, and objects in curated/
 * that nothing will ever read are swept: staged fragments whose rows are all in generations or
 * named by no file manifest (an ingest attempt that died before its manifest, a batch one of whose
 * files was curated again alone) and generations no record names (a compaction attempt
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
import { stringValues } from '../io/arrow-columns.js';
import { readParquet } from '../io/parquet.js';
import { fileIdentity, type GenerationRecord } from './records.js';
import { getJson } from './store-json.js';

const GENERATION_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/gen-[0-9a-f]+\.parquet$/;

export interface FinishCompactionInput {
  lake: string;
  plan: string;
}

export interface SweepResult {
  fragmentsDeleted: number;
  generationsDeleted: number;
  /** Objects left for a later compaction: younger than the grace period, or staged rows not folded yet. */
  pending: number;
}

/**
 * Whether a staged fragment still holds rows no generation has: its rows name their files
 * (ingest date, source file), and a file whose current manifest points at this fragment for this
 * bucket, with rows its bucket's record does not list, is waiting to be folded. A fragment of a
 * batch may be named by files of several days, so the rows, not the key, say which manifests to read.
 */
async function holdsUnfoldedRows(store: ObjectStore, key: string, table: RawTable, bucket: number): Promise<boolean> {
  const rows = readParquet(await store.get(key), { source: key });
  const dates = stringValues(rows.getChild('ingest_date'), rows.numRows);
  const files = stringValues(rows.getChild('source_file'), rows.numRows);
  const members = new Set(dates.map((d, i) => `${d}\u0000${files[i]}`));
  const record = await getJson<GenerationRecord>(store, lake.curatedRecord(table, bucket));
  const folded = new Set((record?.files ?? []).map(fileIdentity));
  for (const member of members) {
    const [date, file] = member.split('\u0000') as [string, string];
    const m = await getJson<FileManifest>(store, lake.ingestFileManifest(table, date, file));
    const entry = ((m?.fragments ?? []) as (FileManifest['fragments'][number] | string)[]).find((f) =>
      typeof f === 'string' ? f === key : f.key === key && f.bucket === bucket,
    );
    if (entry === undefined) continue;
    if (typeof entry === 'string' || !folded.has(fileIdentity({ ingestDate: date, fileName: file, sha256: entry.sha256 }))) return true;
  }
  return false;
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
    const [map, group] = fragment ? [fragments, `${fragment[1]}|${fragment[2]}`] : [generations, `${generation![1]}|${generation![2]}`];
    map.set(group, [...(map.get(group) ?? []), obj.key]);
  }
  for (const [group, keys] of fragments) {
    const [table, bucket] = group.split('|') as [RawTable, string];
    if (!RAW_TABLES.includes(table)) continue;
    for (const key of keys) {
      const unfolded = await holdsUnfoldedRows(store, key, table, Number(bucket));
      await pace();
      if (unfolded) {
        result.pending++;
        continue;
      }
      await store.delete(key);
      result.fragmentsDeleted++;
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
