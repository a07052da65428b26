import { lake, parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { RawFilePage } from '../../schemas/workflows.js';
import type { ActivityDeps } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { compareKeys } from '../io/store-keys.js';

export interface ListRawFilesInput {
  lake: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
  /** Only keys after this one (exclusive), in key order. */
  startAfter: string;
  limit: number;
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
  const keys: string[] = [];
  for (const table of tables) {
    for await (const key of rawKeysOf(store, table, input)) {
      if (keys.length === input.limit) return { keys, nextStartAfter: keys[keys.length - 1]! };
      keys.push(key);
    }
  }
  return { keys };
}

/** A table's raw Parquet keys in the date range after the cursor, in key order. */
async function* rawKeysOf(store: ObjectStore, table: RawTable, input: ListRawFilesInput): AsyncGenerator<string> {
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
    yield obj.key;
  }
}
