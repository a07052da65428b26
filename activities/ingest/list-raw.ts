import { lake, parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { IngestFileResult, RawFilePage } from '../../schemas/workflows.js';
import { mapBounded } from '../../core/map-bounded.js';
import type { ActivityDeps } from '../context.js';
import { getJson } from '../curated/store-json.js';
import type { ObjectInfo, ObjectStore } from '../io/object-store.js';
import { compareKeys } from '../io/store-keys.js';
import { type DayManifest, skippedResult } from './day-manifests.js';
import { curationSettings } from './outputs.js';
import { CURATION_VERSION } from './ingest-file.js';

export interface ListRawFilesInput {
  lake: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
  /** Only keys after this one (exclusive), in key order. */
  startAfter: string;
  limit: number;
  /**
   * The bucket count the run curates into. When given, files their day manifest records as
   * curated from the same object under the same settings are returned as `skipped` results
   * instead of keys (see skipUnchanged).
   */
  bucketCount?: number;
}

export function inRange(date: string, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || date >= from) && (to === undefined || date <= to);
}

/**
 * One page of raw Parquet files in the date range, in key order. Other files are not raw data and
 * are left alone. A page costs the keys it returns plus one: each table is listed from the page
 * cursor (`startAfter`, S3's StartAfter) or the `from` date's folder, whichever is later, and the
 * listing stops at the first key past the `to` date, so neither the pages before nor the days
 * outside the range are listed again. (Listing one level to find the date folders first would
 * cost every date folder of the table on every page; keys sort by date within a table, so the
 * range's bounds are positions in one listing.)
 */
export async function listRawFiles(deps: ActivityDeps, input: ListRawFilesInput): Promise<RawFilePage> {
  const store = deps.lake(input.lake);
  const wanted = new Set<RawTable>(input.tables ?? RAW_TABLES);
  // Tables in the order their keys sort, so pages walk raw/ in the order one listing of it would.
  const tables = RAW_TABLES.filter((t) => wanted.has(t)).sort((a, b) => compareKeys(lake.rawPrefix(a), lake.rawPrefix(b)));
  const listed: ObjectInfo[] = [];
  let nextStartAfter: string | undefined;
  outer: for (const table of tables) {
    for await (const obj of rawKeysOf(store, table, input)) {
      if (listed.length === input.limit) {
        nextStartAfter = listed[listed.length - 1]!.key;
        break outer;
      }
      listed.push(obj);
    }
  }
  const page =
    input.bucketCount === undefined
      ? { keys: listed.map((o) => o.key), skipped: [] }
      : await skipUnchanged(store, listed, curationSettings(CURATION_VERSION, deps.keys.pseudonym.activeId, input.bucketCount));
  return { keys: page.keys, ...(page.skipped.length > 0 ? { skipped: page.skipped } : {}), ...(nextStartAfter !== undefined ? { nextStartAfter } : {}) };
}

/**
 * Splits a page into the files to ingest and those whose day manifest says they were curated from
 * this very object (etag and size) under the same settings, from a file manifest that has not
 * moved since the day manifest summed it (its etag, from a listing of the days' manifests). A
 * scheduled run over a year for one more day so reads a day manifest per day instead of a file
 * manifest and a head per file, and starts no task for the year's files. Anything in doubt (no day
 * manifest, an older one without these fields, a stale entry) goes to ingestFiles, which checks the
 * file manifest itself.
 */
async function skipUnchanged(store: ObjectStore, listed: readonly ObjectInfo[], settings: string): Promise<{ keys: string[]; skipped: IngestFileResult[] }> {
  const days = new Map<string, { table: RawTable; date: string }>();
  // Per table, the page's first and last day (a page is in key order: by table, then date).
  const spans = new Map<RawTable, { first: string; last: string }>();
  for (const o of listed) {
    const p = parseRawKey(o.key)!;
    days.set(`${p.table}|${p.date}`, { table: p.table, date: p.date });
    const span = spans.get(p.table);
    if (span) span.last = p.date;
    else spans.set(p.table, { first: p.date, last: p.date });
  }
  const manifestEtags = new Map<string, string>();
  for (const [table, { first, last }] of spans) {
    // One listing per table over the page's days: `ingest_date=D.json` sorts before `ingest_date=D/`.
    const prefix = `manifests/ingest/${table}/`;
    for await (const obj of store.list(prefix, { startAfter: `${prefix}ingest_date=${first}` })) {
      if (obj.key.slice(prefix.length + 'ingest_date='.length, prefix.length + 'ingest_date='.length + 10) > last) break;
      manifestEtags.set(obj.key, obj.etag);
    }
  }
  const dayManifests = new Map<string, DayManifest | null>();
  await mapBounded([...days], 8, async ([id, { table, date }]) => {
    dayManifests.set(id, manifestEtags.has(lake.ingestManifest(table, date)) ? await getJson<DayManifest>(store, lake.ingestManifest(table, date)) : null);
  });
  const keys: string[] = [];
  const skipped: IngestFileResult[] = [];
  for (const o of listed) {
    const p = parseRawKey(o.key)!;
    const entry = dayManifests.get(`${p.table}|${p.date}`)?.files.find((f) => f.source === o.key);
    const fresh =
      entry !== undefined &&
      entry.settings === settings &&
      entry.raw?.etag === o.etag &&
      entry.raw.size === o.size &&
      entry.manifestEtag !== undefined &&
      manifestEtags.get(lake.ingestFileManifest(p.table, p.date, p.fileName)) === entry.manifestEtag;
    const result = fresh ? skippedResult(entry) : null;
    if (result) skipped.push(result);
    else keys.push(o.key);
  }
  return { keys, skipped };
}

/** A table's raw Parquet keys in the date range after the cursor, in key order. */
async function* rawKeysOf(store: ObjectStore, table: RawTable, input: ListRawFilesInput): AsyncGenerator<ObjectInfo> {
  const datePrefix = `${lake.rawPrefix(table)}ingest_date=`;
  const { from, to } = input;
  // Every key of the table sorts before a cursor that is past the table's prefix and not inside it.
  if (compareKeys(input.startAfter, datePrefix) > 0 && !input.startAfter.startsWith(datePrefix)) return;
  // `<prefix>ingest_date=<from>` sorts just before the from date's folder and after every earlier one.
  const fromKey = from === undefined ? '' : datePrefix + from;
  const startAfter = compareKeys(fromKey, input.startAfter) > 0 ? fromKey : input.startAfter;
  for await (const obj of store.list(datePrefix, startAfter === '' ? {} : { startAfter })) {
    // Keys sort by their date within the table, so the first one past `to` ends the range.
    if (to !== undefined && obj.key.slice(datePrefix.length, datePrefix.length + to.length) > to) return;
    const parts = parseRawKey(obj.key);
    if (!parts || parts.table !== table || !inRange(parts.date, from, to) || !parts.fileName.endsWith('.parquet')) continue;
    yield obj;
  }
}
