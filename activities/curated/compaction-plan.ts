/**
 * Which ingest days the curated generations do not reflect yet, and what each bucket must fold
 * in. The compaction state (`manifests/compaction/state.json`) keeps, per day manifest, the etag
 * and SHA-256 it was compacted at. A listing of `manifests/ingest/` gives every day manifest's
 * etag for free, so a clean lake costs one LIST and one GET; a day whose etag moved is read, and
 * is dirty only if its content changed (an identical rewrite is not). For the dirty days the
 * per-file manifests give each ingested file's staged fragments; they are written as one plan
 * file per bucket (`manifests/compaction/plans/<plan>/bucket=BBB.json`), the plan's own summary
 * last. The plan id is a hash of the dirty days' contents: two runs finding the same work plan
 * the same keys.
 */
import { InvalidInputError } from '../../core/errors.js';
import { INGEST_DAY_MANIFEST_RE, lake, parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { mapBounded } from '../../core/map-bounded.js';
import { type ActivityDeps, activityLogFields, activityPace, type Pace, sha256Hex, writeJson } from '../context.js';
import type { DayManifest } from '../ingest/day-manifests.js';
import { CURATION_VERSION } from '../ingest/ingest-file.js';
import type { FileManifest } from '../ingest/outputs.js';
import type { ObjectStore } from '../io/object-store.js';
import { tally } from './tally.js';
import { readCompactionState, recordCompacted } from './compaction-state.js';
import type { CuratedFileEntry } from './records.js';
import { getJson } from './store-json.js';

export interface PlannedFile extends CuratedFileEntry {
  /** The staged fragment holding the rows, from `offset`. */
  key: string;
  offset: number;
  /** Files whose rows the fragment holds. */
  members: number;
}

/** One bucket's part of a compaction plan. */
export interface BucketCompactionPlan {
  bucket: number;
  bucketCount: number;
  pseudonymKeyId: string;
  curationVersion: string;
  /** Per table, the dates whose files are replaced by those listed (a dirty day with no file here drops the bucket's rows of it). */
  dirtyDates: Record<RawTable, string[]>;
  files: Record<RawTable, PlannedFile[]>;
}

export interface CompactionPlan {
  plan: string;
  bucketCount: number;
  pseudonymKeyId: string;
  /** The state each day manifest is compacted at once the plan is done (sha256 '' = the day is gone). */
  days: Record<string, { etag: string; sha256: string }>;
  dirtyDays: number;
  files: number;
  fragments: number;
}

export interface PlanCompactionInput {
  lake: string;
  bucketCount: number;
}

export interface CompactionPlanSummary {
  /** Empty when the generations already reflect every day manifest. */
  plan: string;
  buckets: number[];
  dirtyDays: number;
  files: number;
  fragments: number;
}

const perTable = <T>(make: () => T) => Object.fromEntries(RAW_TABLES.map((t) => [t, make()])) as Record<RawTable, T>;

/** Day manifests as listed: key, table, date and etag. */
async function listDays(store: ObjectStore, pace: Pace): Promise<{ key: string; table: RawTable; date: string; etag: string }[]> {
  const out: { key: string; table: RawTable; date: string; etag: string }[] = [];
  for await (const obj of store.list('manifests/ingest/')) {
    await pace();
    const m = INGEST_DAY_MANIFEST_RE.exec(obj.key);
    if (m && (RAW_TABLES as readonly string[]).includes(m[1]!)) out.push({ key: obj.key, table: m[1] as RawTable, date: m[2]!, etag: obj.etag });
  }
  return out;
}

/**
 * Refuses files curated under other settings than the zone's: a patient's rows would sit under
 * two pseudonyms or in two buckets and the features would silently split histories.
 * Non-retryable: re-curating is the fix, and the message says how.
 */
function checkSettings(files: readonly FileManifest[], keptKeyId: string | null, bucketCount: number, lakeUri: string, currentKeyId: string): string {
  const keys = tally(files.map((f) => f.pseudonymKeyId).concat(keptKeyId ? [keptKeyId] : []));
  const counts = tally(files.map((f) => String(f.bucketCount)));
  const versions = tally(files.map((f) => f.curationVersion));
  const problems: string[] = [];
  if (keys.length > 1) problems.push(`it mixes pseudonym keys (${keys.map(([id, n]) => `key id ${id}: ${n}`).join(', ')})`);
  if (counts.some(([n]) => Number(n) !== bucketCount)) {
    problems.push(
      `it was curated into other bucket counts than this build's ${bucketCount} (${counts.map(([b, n]) => `${b} buckets: ${n} files`).join(', ')})`,
    );
  }
  if (versions.some(([v]) => v !== CURATION_VERSION)) {
    problems.push(`files were curated by other code than ${CURATION_VERSION} (${versions.map(([v, n]) => `${v}: ${n}`).join(', ')})`);
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      `compaction: cannot fold the curated zone: ${problems.join('; ')}. Re-run \`carepipe ingest --lake ${lakeUri} --buckets ${bucketCount}\` ` +
        `with CAREPIPE_PSEUDONYM_KEY_ID=${currentKeyId} to re-curate every file under one key, bucket count and code version.`,
    );
  }
  return keys[0]?.[0] ?? currentKeyId;
}

export async function planCompactionWork(
  store: ObjectStore,
  bucketCount: number,
  currentKeyId: string,
  pace: Pace,
): Promise<{ plan: CompactionPlan; buckets: BucketCompactionPlan[] } | null> {
  const state = await readCompactionState(store);
  const known = state && state.bucketCount === bucketCount && state.curationVersion === CURATION_VERSION ? state.days : {};
  const listed = await listDays(store, pace);
  const days: CompactionPlan['days'] = {};
  const dirty: { key: string; table: RawTable; date: string; manifest: DayManifest | null }[] = [];
  await mapBounded(
    listed.filter((d) => known[d.key]?.etag !== d.etag),
    16,
    async (d) => {
      const bytes = await store.get(d.key);
      const sha256 = sha256Hex(bytes);
      days[d.key] = { etag: d.etag, sha256 };
      if (known[d.key]?.sha256 !== sha256) dirty.push({ ...d, manifest: JSON.parse(new TextDecoder().decode(bytes)) as DayManifest });
      await pace();
    },
  );
  const listedKeys = new Set(listed.map((d) => d.key));
  for (const key of Object.keys(known)) {
    const m = INGEST_DAY_MANIFEST_RE.exec(key);
    if (listedKeys.has(key) || !m) continue;
    days[key] = { etag: '', sha256: '' };
    dirty.push({ key, table: m[1] as RawTable, date: m[2]!, manifest: null });
  }
  if (Object.keys(days).length === 0) return null;

  const fileKeys = dirty.flatMap((d) =>
    (d.manifest?.files ?? [])
      .filter((f) => f.status === 'ingested')
      .map((f) => {
        const raw = parseRawKey(f.source);
        if (!raw) throw new InvalidInputError(`compaction: day manifest ${d.key} lists "${f.source}", not a raw key`);
        return lake.ingestFileManifest(raw.table, raw.date, raw.fileName);
      }),
  );
  const files = await mapBounded(fileKeys, 16, async (key) => {
    const m = await getJson<FileManifest>(store, key);
    if (!m) throw new InvalidInputError(`compaction: a day manifest names ${key}, which is missing; re-run ingest for its date`);
    await pace();
    return m;
  });
  // Days compacted before and not replaced now keep their rows, so their key must be the files' key.
  const dirtyKeys = new Set(dirty.map((d) => d.key));
  const keptKeyId = Object.keys(known).some((k) => !dirtyKeys.has(k)) ? (state?.pseudonymKeyId ?? null) : null;
  const pseudonymKeyId = checkSettings(files, keptKeyId, bucketCount, store.uri, currentKeyId);

  const dirtyDates = perTable<string[]>(() => []);
  for (const d of dirty) dirtyDates[d.table].push(d.date);
  const buckets: BucketCompactionPlan[] = Array.from({ length: bucketCount }, (_, bucket) => ({
    bucket,
    bucketCount,
    pseudonymKeyId,
    curationVersion: CURATION_VERSION,
    dirtyDates,
    files: perTable<PlannedFile[]>(() => []),
  }));
  let fragments = 0;
  for (const m of files) {
    for (const f of m.fragments) {
      if (!(f.bucket >= 0 && f.bucket < bucketCount))
        throw new InvalidInputError(`compaction: ${m.source}'s manifest names bucket ${f.bucket} of ${bucketCount}`);
      buckets[f.bucket]!.files[m.table].push({
        ingestDate: m.ingestDate,
        fileName: m.fileName,
        sha256: f.sha256,
        rows: f.rows,
        key: f.key,
        offset: f.offset ?? 0,
        members: f.members ?? 1,
      });
      fragments++;
    }
  }
  const id = sha256Hex(
    String(bucketCount),
    pseudonymKeyId,
    CURATION_VERSION,
    ...Object.entries(days)
      .sort()
      .map(([k, v]) => `${k}=${v.sha256}`),
  ).slice(0, 16);
  return { plan: { plan: id, bucketCount, pseudonymKeyId, days, dirtyDays: dirty.length, files: files.length, fragments }, buckets };
}

/**
 * Plans the compaction of every day manifest the generations do not reflect. With nothing dirty
 * it only records etags that moved (an identical rewrite), and plans no bucket.
 */
export async function planCompaction(deps: ActivityDeps, input: PlanCompactionInput): Promise<CompactionPlanSummary> {
  const store = deps.lake(input.lake);
  const pace = activityPace(() => ({ step: 'plan compaction' }));
  const work = await planCompactionWork(store, input.bucketCount, deps.keys.pseudonym.activeId, pace);
  if (!work) return { plan: '', buckets: [], dirtyDays: 0, files: 0, fragments: 0 };
  const { plan, buckets } = work;
  if (plan.dirtyDays === 0) {
    await recordCompacted(store, plan);
    return { plan: '', buckets: [], dirtyDays: 0, files: 0, fragments: 0 };
  }
  await mapBounded(buckets, 16, async (b) => {
    await writeJson(store, lake.compactionPlanBucket(plan.plan, b.bucket), b);
    await pace();
  });
  await writeJson(store, lake.compactionPlan(plan.plan), plan);
  deps.logger.info('compaction plan', { ...activityLogFields(), plan: plan.plan, dirtyDays: plan.dirtyDays, files: plan.files, fragments: plan.fragments });
  return { plan: plan.plan, buckets: buckets.map((b) => b.bucket), dirtyDays: plan.dirtyDays, files: plan.files, fragments: plan.fragments };
}
