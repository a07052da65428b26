/**
 * Reading a lake back in tests: listings with content hashes (to compare two states byte for byte),
 * Parquet objects as Arrow tables, columns as plain arrays, and the ingest manifests.
 */
import { createHash } from 'node:crypto';
import type { Table } from 'apache-arrow';
import type { DayManifest } from '../../activities/ingest/day-manifests.js';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, timestampColumnToMillis } from '../../activities/io/parquet.js';

export interface ObjectState {
  /** Hex MD5 of the bytes, computed here: a store's etag is a version tag, not a content hash. */
  md5: string;
  size: number;
  lastModified: number;
}

/** Every object under the prefixes, by key, each read whole to hash it. */
export async function snapshot(store: ObjectStore, prefixes: readonly string[]): Promise<Map<string, ObjectState>> {
  const out = new Map<string, ObjectState>();
  for (const prefix of prefixes) {
    for await (const o of store.list(prefix)) {
      const md5 = createHash('md5')
        .update(await store.get(o.key))
        .digest('hex');
      out.set(o.key, { md5, size: o.size, lastModified: o.lastModified.getTime() });
    }
  }
  return out;
}

/** key -> "md5 size": what must match when two states hold the same bytes. */
export function contentOf(state: Map<string, ObjectState>): Record<string, string> {
  return Object.fromEntries([...state].map(([k, s]) => [k, `${s.md5} ${s.size}`]));
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

export async function readTable(store: ObjectStore, key: string): Promise<Table> {
  return readParquet(await store.get(key), { source: key });
}

export function strings(table: Table, name: string): (string | null)[] {
  return stringValues(table.getChild(name), table.numRows);
}

/** Timestamps and dates as epoch milliseconds, NaN for null. */
export function millis(table: Table, name: string): Float64Array {
  const v = table.getChild(name);
  if (!v) throw new Error(`no column ${name}`);
  return timestampColumnToMillis(v);
}

export async function readJsonObject<T>(store: ObjectStore, key: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
}

const DAY_MANIFEST_RE = /^manifests\/ingest\/[a-z_]+\/ingest_date=\d{4}-\d{2}-\d{2}\.json$/;
const FILE_MANIFEST_RE = /^manifests\/ingest\/[a-z_]+\/ingest_date=\d{4}-\d{2}-\d{2}\/files\/.+\.json$/;

export async function dayManifests(store: ObjectStore): Promise<Map<string, DayManifest>> {
  const out = new Map<string, DayManifest>();
  for (const key of await listKeys(store, 'manifests/ingest/')) {
    if (DAY_MANIFEST_RE.test(key)) out.set(key, await readJsonObject<DayManifest>(store, key));
  }
  return out;
}

export async function fileManifests(store: ObjectStore): Promise<Map<string, FileManifest>> {
  const out = new Map<string, FileManifest>();
  for (const key of await listKeys(store, 'manifests/ingest/')) {
    if (FILE_MANIFEST_RE.test(key)) out.set(key, await readJsonObject<FileManifest>(store, key));
  }
  return out;
}

export function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/**
 * A file's curated rows in the compacted zone: per bucket its manifest names, the generation
 * (read through the bucket's record) and the indices of the rows carrying the file's date and name.
 */
export async function curatedRowsOf(store: ObjectStore, m: FileManifest): Promise<{ bucket: number; table: Table; rows: number[] }[]> {
  const out: { bucket: number; table: Table; rows: number[] }[] = [];
  for (const bucket of [...new Set(m.fragments.map((f) => f.bucket))].sort((a, b) => a - b)) {
    const record = await readJsonObject<{ key: string | null }>(store, `curated/${m.table}/bucket=${String(bucket).padStart(3, '0')}/_current.json`);
    if (!record.key) continue;
    const table = await readTable(store, record.key);
    const dates = strings(table, 'ingest_date');
    const files = strings(table, 'source_file');
    const rows: number[] = [];
    for (let i = 0; i < table.numRows; i++) if (dates[i] === m.ingestDate && files[i] === m.fileName) rows.push(i);
    out.push({ bucket, table, rows });
  }
  return out;
}
