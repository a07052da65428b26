/**
 * Folds a bucket's staged fragments into its generations, one table at a time: the files the
 * record keeps (those on days the plan does not replace) come from the current generation, the
 * plan's files from their fragments, all in the contract's order, gathered into one batch and
 * written as a new content-addressed generation; then the record is replaced conditionally. A
 * record moved by another compaction meanwhile makes the table start over from the new record.
 * Only after the record is in place are the folded fragments deleted, and superseded generations
 * once they are older than the grace period (a feature shard may have been planned on them).
 */
import { InvalidInputError, NotFoundError, PreconditionFailedError, TransientError } from '../../core/errors.js';
import { lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { Table } from 'apache-arrow';
import { mapBounded } from '../../core/map-bounded.js';
import { type ActivityDeps, activityLogFields, activityPace, type Pace } from '../context.js';
import { gatherRuns, type RowRun } from '../io/arrow-gather.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet, writeParquet } from '../io/parquet.js';
import type { BucketCompactionPlan, PlannedFile } from './compaction-plan.js';
import { CURATED_PARQUET } from './parquet-format.js';
import { type CuratedFileEntry, fileIdentity, fileOrder, type GenerationRecord, generationId, readRecord, replaceRecord } from './records.js';
import { getJson } from './store-json.js';

/** How long a superseded generation is kept: longer than a feature shard attempt may run (1 h). */
export const GENERATION_GRACE_MS = 2 * 60 * 60_000;
const MAX_RACES = 8;
const FETCHES_AHEAD = 8;

export interface CompactBucketInput {
  lake: string;
  plan: string;
  bucket: number;
}

export interface TableCompaction {
  table: RawTable;
  /** A new generation was written (false: the record already held exactly these files). */
  changed: boolean;
  files: number;
  /** Files whose rows came from the previous generation, and from staged fragments. */
  reused: number;
  folded: number;
  rows: number;
  bytes: number;
}

export interface CompactBucketResult {
  bucket: number;
  tables: TableCompaction[];
  fragmentsDeleted: number;
  generationsDeleted: number;
}

/** Decodes each fragment the files name once, a few fetches ahead, pacing between them; in the order of `keys`. */
async function readFragments(store: ObjectStore, keys: readonly string[], pace: Pace): Promise<Table[]> {
  const bodies: (Promise<Uint8Array> | undefined)[] = keys.map(() => undefined);
  const start = (i: number) => {
    if (i >= keys.length) return;
    bodies[i] = store.get(keys[i]!);
    void bodies[i].catch(() => undefined);
  };
  for (let i = 0; i < FETCHES_AHEAD; i++) start(i);
  const out: Table[] = [];
  for (let i = 0; i < keys.length; i++) {
    out.push(readParquet(await bodies[i]!, { source: keys[i]! }));
    start(i + FETCHES_AHEAD);
    await pace();
  }
  return out;
}

async function compactTable(
  store: ObjectStore,
  plan: BucketCompactionPlan,
  table: RawTable,
  pace: Pace,
): Promise<{ result: TableCompaction; expired: string[] }> {
  const { bucket, bucketCount, pseudonymKeyId, curationVersion } = plan;
  for (let race = 0; race < MAX_RACES; race++) {
    let state: Awaited<ReturnType<typeof readRecord>>;
    try {
      state = await readRecord(store, table, bucket);
    } catch (err) {
      // Replaced by another compaction while it was read: read it again.
      if (err instanceof PreconditionFailedError) continue;
      throw err;
    }
    const record = state.record;
    // A record of other settings holds only days this plan replaces (the planner refuses a mix), so none of it is kept.
    const sameSettings = record && record.bucketCount === bucketCount && record.pseudonymKeyId === pseudonymKeyId && record.curationVersion === curationVersion;
    const dirty = new Set(plan.dirtyDates[table]);
    const kept = sameSettings ? record.files.filter((f) => !dirty.has(f.ingestDate)) : [];
    const desired: (CuratedFileEntry | PlannedFile)[] = [...kept, ...plan.files[table]].sort(fileOrder);
    const files: CuratedFileEntry[] = desired.map(({ ingestDate, fileName, sha256, rows }) => ({ ingestDate, fileName, sha256, rows }));
    const generation = files.length > 0 ? generationId({ table, bucket, bucketCount, pseudonymKeyId, curationVersion }, files) : null;
    const base: TableCompaction = { table, changed: false, files: files.length, reused: 0, folded: 0, rows: 0, bytes: 0 };
    if ((record?.generation ?? null) === generation && sameSettings) {
      return { result: { ...base, rows: record.rows, bytes: record.bytes }, expired: [] };
    }

    // Where each file's rows are now: a run of the current generation, or its own fragment.
    const oldRuns = new Map<string, { start: number; end: number }>();
    if (sameSettings) {
      let at = 0;
      for (const f of record.files) oldRuns.set(fileIdentity(f), { start: at, end: (at += f.rows) });
    }
    const fromFragments = desired.filter((f): f is PlannedFile => !oldRuns.has(fileIdentity(f)));
    const fragmentKeys = [...new Set(fromFragments.map((f) => f.key))];
    let sources: Table[];
    try {
      const current = sameSettings && record.key && fromFragments.length < desired.length ? { key: record.key, rows: record.rows } : null;
      const old = current ? readParquet(await store.get(current.key), { source: current.key }) : null;
      if (current && old && old.numRows !== current.rows)
        throw new InvalidInputError(`compaction: ${current.key} holds ${old.numRows} rows, its record says ${current.rows}`);
      sources = [...(old ? [old] : []), ...(await readFragments(store, fragmentKeys, pace))];
    } catch (err) {
      // Another compaction folded (and deleted) a fragment: its record moved, so start over from it.
      if (err instanceof NotFoundError && (await store.head(lake.curatedRecord(table, bucket)))?.etag !== (state.etag ?? undefined)) continue;
      throw err;
    }
    const first = sources.length - fragmentKeys.length;
    const sourceOf = new Map(fragmentKeys.map((k, i) => [k, first + i]));
    const runs: RowRun[] = desired.map((f) => {
      const old = oldRuns.get(fileIdentity(f));
      if (old) return { source: 0, ...old };
      const p = f as PlannedFile;
      const source = sourceOf.get(p.key)!;
      if (p.offset + p.rows > sources[source]!.numRows) {
        throw new InvalidInputError(
          `compaction: fragment ${p.key} holds ${sources[source]!.numRows} rows, the manifest of ${p.fileName} puts its ${p.rows} rows from ${p.offset}`,
        );
      }
      return { source, start: p.offset, end: p.offset + p.rows };
    });
    let key: string | null = null;
    let rows = 0;
    let bytes = 0;
    if (generation) {
      const gathered = gatherRuns(sources, runs);
      await pace();
      const body = writeParquet(gathered, CURATED_PARQUET);
      key = lake.curatedGeneration(table, bucket, generation);
      await store.put(key, body);
      rows = gathered.numRows;
      bytes = body.byteLength;
    }
    const now = Date.now();
    const replaced = record?.key && record.key !== key ? [{ key: record.key, at: new Date(now).toISOString() }] : [];
    // Generations of other settings (a rotated pseudonym key) go at once: no plan of this zone can use them, and they hold old pseudonyms.
    const superseded = sameSettings ? [...record.superseded, ...replaced] : [];
    const expired = [
      ...superseded.filter((s) => now - Date.parse(s.at) > GENERATION_GRACE_MS).map((s) => s.key),
      ...(sameSettings ? [] : [...(record?.superseded ?? []), ...replaced].map((s) => s.key)),
    ];
    const next: GenerationRecord = {
      table,
      bucket,
      bucketCount,
      pseudonymKeyId,
      curationVersion,
      generation,
      key,
      rows,
      bytes,
      files,
      superseded: superseded.filter((s) => !expired.includes(s.key)),
    };
    try {
      await replaceRecord(store, state, next);
    } catch (err) {
      if (err instanceof PreconditionFailedError) continue;
      throw err;
    }
    return { result: { ...base, changed: true, reused: desired.length - fromFragments.length, folded: fromFragments.length, rows, bytes }, expired };
  }
  throw new TransientError(`compaction: lost ${MAX_RACES} races for ${lake.curatedRecord(table, bucket)}; retried`);
}

export async function compactBucketTables(store: ObjectStore, plan: BucketCompactionPlan, pace: Pace): Promise<CompactBucketResult> {
  const tables: TableCompaction[] = [];
  let fragmentsDeleted = 0;
  let generationsDeleted = 0;
  for (const table of RAW_TABLES) {
    const { result, expired } = await compactTable(store, plan, table, pace);
    tables.push(result);
    // The record names the new generation now: the fragments are in it. One shared with files
    // another plan folds (their days' manifests came later) stays for that plan to delete.
    const planned = new Map<string, { count: number; members: number }>();
    for (const f of plan.files[table]) planned.set(f.key, { count: (planned.get(f.key)?.count ?? 0) + 1, members: f.members });
    await mapBounded(
      [...planned].filter(([, p]) => p.count >= p.members),
      16,
      async ([key]) => {
        await store.delete(key);
        fragmentsDeleted++;
        await pace();
      },
    );
    for (const key of expired) {
      await store.delete(key);
      generationsDeleted++;
    }
  }
  return { bucket: plan.bucket, tables, fragmentsDeleted, generationsDeleted };
}

export async function compactBucket(deps: ActivityDeps, input: CompactBucketInput): Promise<CompactBucketResult> {
  const store = deps.lake(input.lake);
  const plan = await getJson<BucketCompactionPlan>(store, lake.compactionPlanBucket(input.plan, input.bucket));
  if (!plan) throw new NotFoundError(`compaction: no plan at ${lake.compactionPlanBucket(input.plan, input.bucket)}`);
  const result = await compactBucketTables(
    store,
    plan,
    activityPace(() => ({ step: 'compact', bucket: input.bucket })),
  );
  deps.logger.info('bucket compacted', {
    ...activityLogFields(),
    bucket: input.bucket,
    changed: result.tables.filter((t) => t.changed).length,
    folded: result.tables.reduce((s, t) => s + t.folded, 0),
    fragmentsDeleted: result.fragmentsDeleted,
  });
  return result;
}
