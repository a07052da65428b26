/**
 * The ingest map step for a batch of raw files of one table: read each, curate it (curate.ts, on
 * the curator pool when the worker has one, all of the batch's files at once), and write the
 * rejects and quarantine per file, the staged fragments per bucket for the whole batch, and each
 * file's manifest last. A raw zone of daily files is thousands of small files: one activity and
 * one fragment per bucket for each of them was most of ingest's time and of the objects a year
 * left behind, so files travel in batches (`ingestWorkflow`'s `filesPerTask`). A batch's
 * fragment for a bucket holds its files' rows one after another in the contract's order; each
 * file's manifest says where its rows are (offset, rows) and their SHA-256 (of the file's own
 * fragment bytes, so a bucket whose rows did not change keeps its generation).
 *
 * Outputs sit at keys derived from hashes of the input bytes, names and curation settings, and
 * manifests are written last, so a retry or rerun skips or overwrites identical bytes and never
 * duplicates rows. A file whose manifest holds the same input hash is skipped without curating.
 */
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { getJson } from '../curated/store-json.js';
import { lake, parseRawKey, type RawTable } from '../../data-lake/layout.js';
import type { IngestFileResult } from '../../schemas/workflows.js';
import { mapBounded } from '../../core/map-bounded.js';
import { type ActivityDeps, activityLogFields, heartbeat, pauseActivity, sha256Hex, writeJson } from '../context.js';
import { CURATED_PARQUET } from '../curated/parquet-format.js';
import { gatherRuns } from '../io/arrow-gather.js';
import type { ObjectInfo, ObjectStore } from '../io/object-store.js';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../../core/config.js';
import { writeParquet } from '../io/parquet.js';
import { tableFromIPC } from 'apache-arrow';
import { type CurateOutcome, type Curator, curateFile } from './curate.js';
import { type CuratedFragment, curationSettings, type FileManifest, quarantineFile } from './outputs.js';

/** Bump when curation output changes for the same input: every file is then re-curated. */
export const CURATION_VERSION = 'curation-6';

export const inlineCurator: Curator = async (req) => curateFile(req);

export interface IngestFileInput {
  lake: string;
  key: string;
  bucketCount: number;
}

export interface IngestFilesInput {
  lake: string;
  /** Raw keys of one table. */
  keys: string[];
  bucketCount: number;
}

function resultOf(m: FileManifest, status: IngestFileResult['status']): IngestFileResult {
  return {
    key: m.source,
    status,
    rowsIn: m.rowsIn,
    accepted: m.accepted,
    corrected: m.corrected,
    rejected: m.rejected,
    fragments: m.fragments.length,
    ...(m.quarantine ? { reasonType: m.quarantine.reasonType } : {}),
  };
}

/** The fragment keys of a manifest, whatever version wrote it (curation-4 and before listed bare keys), with how many files share each. */
function stagedFragments(m: FileManifest | undefined): { key: string; shared: boolean }[] {
  return ((m?.fragments ?? []) as (CuratedFragment | string)[]).map((f) =>
    typeof f === 'string' ? { key: f, shared: false } : { key: f.key, shared: (f.members ?? 1) > 1 },
  );
}

type Base = Omit<FileManifest, 'status' | 'rowsIn' | 'accepted' | 'corrected' | 'rejected' | 'rejectReasons' | 'fragments' | 'rejectsKey' | 'quarantine'>;

interface Pending {
  key: string;
  base: Base;
  bytes: Uint8Array;
  manifestKey: string;
  previous: FileManifest | undefined;
  outcome?: CurateOutcome;
}

/** The config's bounds; the defaults for a config built without them (older tests' literals). */
function ingestLimits(deps: ActivityDeps): IngestLimits {
  return deps.config.ingest ?? DEFAULT_INGEST_LIMITS;
}

/**
 * A file listed larger than the cap is quarantined without being read into memory: its bytes are
 * streamed to quarantine/, and its input hash is of its etag and size (what the skip check compares).
 */
async function quarantineOversized(
  store: ObjectStore,
  key: string,
  parts: NonNullable<ReturnType<typeof parseRawKey>>,
  info: ObjectInfo,
  maxFileBytes: number,
  bucketCount: number,
  keyId: string,
  manifestKey: string,
): Promise<IngestFileResult> {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const base: Base = {
    source: key,
    table: parts.table,
    ingestDate: parts.date,
    fileName: parts.fileName,
    inputHash: sha256Hex('listed', info.etag, String(info.size), CURATION_VERSION, keyId, String(bucketCount)),
    curationVersion: CURATION_VERSION,
    pseudonymKeyId: keyId,
    bucketCount,
    raw: { etag: info.etag, size: info.size },
  };
  const reason = `${key}: listed at ${mib(info.size)}, over ingest's file-size cap of ${mib(maxFileBytes)} (CAREPIPE_INGEST_MAX_FILE_MB); not read`;
  const manifest = await quarantineFile(store, base, await store.getStream(key), { reasonType: 'FileTooLargeError', reason });
  await writeJson(store, manifestKey, manifest);
  return resultOf(manifest, 'quarantined');
}

/** Reads a raw file and its manifest: null when the manifest already holds the same input hash (the result then says skipped). */
async function prepare(deps: ActivityDeps, store: ObjectStore, key: string, bucketCount: number, table: RawTable): Promise<Pending | IngestFileResult> {
  const parts = parseRawKey(key);
  if (!parts) throw new InvalidInputError(`ingest: "${key}" is not a raw key (raw/<table>/ingest_date=YYYY-MM-DD/<file>)`);
  if (parts.table !== table) throw new InvalidInputError(`ingest: a batch holds files of one table; "${key}" is not of ${table}`);
  const ring = deps.keys.pseudonym;
  const manifestKey = lake.ingestFileManifest(parts.table, parts.date, parts.fileName);
  const previous = (await getJson<FileManifest>(store, manifestKey)) ?? undefined;
  // Before the read: a file replaced in between is recorded as the older version and read again next time, never skipped wrongly.
  const info = await store.head(key);
  if (!info) throw new NotFoundError(`ingest: ${key} is gone from the landing zone`);
  const sameSettings =
    previous !== undefined &&
    curationSettings(previous.curationVersion, previous.pseudonymKeyId, previous.bucketCount) ===
      curationSettings(CURATION_VERSION, ring.activeId, bucketCount);
  // The scheduled run lists a year of files to ingest one more day: unchanged ones are not read again.
  if (sameSettings && previous.raw?.etag === info.etag && previous.raw.size === info.size) return resultOf(previous, 'skipped');
  const maxFileBytes = ingestLimits(deps).maxFileBytes;
  if (info.size > maxFileBytes) return quarantineOversized(store, key, parts, info, maxFileBytes, bucketCount, ring.activeId, manifestKey);
  const bytes = await store.get(key);
  const inputHash = sha256Hex(bytes, CURATION_VERSION, ring.activeId, String(bucketCount));
  if (previous?.inputHash === inputHash) return resultOf(previous, 'skipped');
  const base: Base = {
    source: key,
    table: parts.table,
    ingestDate: parts.date,
    fileName: parts.fileName,
    inputHash,
    curationVersion: CURATION_VERSION,
    pseudonymKeyId: ring.activeId,
    bucketCount,
    raw: { etag: info.etag, size: info.size },
  };
  return { key, base, bytes, manifestKey, previous };
}

/**
 * Writes one staged fragment per bucket holding the curated files' rows in the contract's order,
 * and returns each file's entries: the batch's rows of a bucket are gathered from every file's
 * curated rows and encoded once.
 */
async function stageFragments(
  store: ObjectStore,
  files: readonly (Pending & { outcome: Extract<CurateOutcome, { kind: 'curated' }> })[],
): Promise<CuratedFragment[][]> {
  const entries: CuratedFragment[][] = files.map(() => []);
  const tables = files.map((f) => tableFromIPC(f.outcome.rows));
  const buckets = new Map<number, { file: number; start: number; rows: number; sha256: string }[]>();
  files.forEach((f, file) => {
    for (const b of f.outcome.buckets) {
      const list = buckets.get(b.bucket) ?? [];
      list.push({ file, start: b.start, rows: b.rows, sha256: b.sha256 });
      buckets.set(b.bucket, list);
    }
  });
  // The batch's name: every file's input hash and name, so two batches of other files never share a key.
  const batchHash = sha256Hex(...files.flatMap((f) => [f.base.inputHash, f.base.fileName])).slice(0, 16);
  const first = files[0]!.base;
  for (const [bucket, members] of [...buckets].sort(([a], [b]) => a - b)) {
    const key = lake.curatedFragment(first.table, bucket, first.ingestDate, batchHash);
    const body = writeParquet(
      gatherRuns(
        tables,
        members.map((m) => ({ source: m.file, start: m.start, end: m.start + m.rows })),
      ),
      CURATED_PARQUET,
    );
    await store.put(key, body);
    let offset = 0;
    for (const m of members) {
      entries[m.file]!.push({ bucket, key, rows: m.rows, sha256: m.sha256, offset, members: members.length });
      offset += m.rows;
    }
    await pauseActivity({ step: 'stage', bucket });
  }
  return entries;
}

export async function ingestFiles(deps: ActivityDeps, input: IngestFilesInput): Promise<IngestFileResult[]> {
  if (input.keys.length === 0) return [];
  const store = deps.lake(input.lake);
  const table = parseRawKey(input.keys[0]!)?.table;
  if (!table) throw new InvalidInputError(`ingest: "${input.keys[0]}" is not a raw key (raw/<table>/ingest_date=YYYY-MM-DD/<file>)`);
  const log = deps.logger.child(activityLogFields());
  const prepared = await mapBounded(input.keys, 4, (key) => prepare(deps, store, key, input.bucketCount, table));
  const pending = prepared.filter((p): p is Pending => 'base' in p);
  heartbeat({ step: 'curate', files: pending.length });
  const ring = deps.keys.pseudonym;
  const limits = ingestLimits(deps);
  await Promise.all(
    pending.map(async (p) => {
      p.outcome = await (deps.curator ?? inlineCurator)({
        bytes: p.bytes,
        source: p.key,
        table,
        ingestDate: p.base.ingestDate,
        fileName: p.base.fileName,
        bucketCount: input.bucketCount,
        pseudonymKey: { id: ring.activeId, secret: ring.keys.get(ring.activeId)! },
        limits: { maxDecodedBytes: limits.maxDecodedBytes, maxStringBytes: limits.maxStringBytes },
      });
    }),
  );

  const results = new Map<string, IngestFileResult>(prepared.filter((p): p is IngestFileResult => !('base' in p)).map((r) => [r.key, r]));
  for (const p of pending.filter((x) => x.outcome!.kind === 'quarantine')) {
    const outcome = p.outcome as Extract<CurateOutcome, { kind: 'quarantine' }>;
    const manifest = await quarantineFile(store, p.base, p.bytes, outcome);
    await writeJson(store, p.manifestKey, manifest);
    log.warn('file quarantined', { source: p.key, reasonType: outcome.reasonType });
    results.set(p.key, resultOf(manifest, 'quarantined'));
  }
  // The contract's order, so a batch fragment holds its files' rows as a generation will.
  const curated = pending
    .filter((x): x is Pending & { outcome: Extract<CurateOutcome, { kind: 'curated' }> } => x.outcome!.kind === 'curated')
    .sort((a, b) => (a.base.ingestDate !== b.base.ingestDate ? (a.base.ingestDate < b.base.ingestDate ? -1 : 1) : a.base.fileName < b.base.fileName ? -1 : 1));
  const entries = curated.length > 0 ? await stageFragments(store, curated) : [];
  for (const [i, p] of curated.entries()) {
    const { rowsIn, accepted, corrected, rejected, rejectReasons, rejects } = p.outcome;
    const hash = sha256Hex(p.base.inputHash, p.base.fileName).slice(0, 16);
    const rejectsKey = rejects ? lake.rejects(table, p.base.ingestDate, hash) : null;
    if (rejects && rejectsKey) await store.put(rejectsKey, rejects);
    const fragments = entries[i]!;
    const manifest: FileManifest = { ...p.base, status: 'ingested', rowsIn, accepted, corrected, rejected, rejectReasons, fragments, rejectsKey };
    await writeJson(store, p.manifestKey, manifest);
    // Outputs of an earlier curation of this file: its own fragments (not yet folded) and rejects. A
    // fragment it shared with other files stays until compaction has folded them all.
    const written = new Set(fragments.map((f) => f.key));
    for (const stale of stagedFragments(p.previous)) if (!stale.shared && !written.has(stale.key)) await store.delete(stale.key);
    if (p.previous?.rejectsKey && p.previous.rejectsKey !== rejectsKey) await store.delete(p.previous.rejectsKey);
    results.set(p.key, resultOf(manifest, 'ingested'));
    log.info('file ingested', { source: p.key, rowsIn, rejected, corrected, fragments: fragments.length });
  }
  log.info('files ingested', { files: input.keys.length, curated: curated.length, skipped: input.keys.length - pending.length });
  return input.keys.map((k) => results.get(k)!);
}

/** One file: a batch of one. */
export async function ingestFile(deps: ActivityDeps, input: IngestFileInput): Promise<IngestFileResult> {
  const [result] = await ingestFiles(deps, { lake: input.lake, keys: [input.key], bucketCount: input.bucketCount });
  return result!;
}
