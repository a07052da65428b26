/**
 * Reads one bucket's curated fragments of a table into one Arrow table, resolving corrections:
 * per primary key, the row from the latest ingest date (then the latest file name) wins. Every
 * row is kept in the table (superseded rows tell when the lake first learnt something); `rows`
 * lists the winners.
 */
import type { Table } from 'apache-arrow';
import { lake, type RawTable } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet } from '../io/parquet.js';
import { dictionaryCodes, hashRow, rowString, rowsEqual, utf8Column } from './utf8.js';

const PRIMARY_KEYS: Record<RawTable, readonly string[]> = {
  patients: ['patient_key'],
  encounters: ['encounter_id'],
  diagnoses: ['encounter_id', 'icd10'],
  lab_results: ['lab_id'],
};

export interface BucketTable {
  table: Table | null;
  /** Row indices of `table` that survive deduplication, ascending. */
  rows: Uint32Array;
}

export const EMPTY_BUCKET_TABLE: BucketTable = { table: null, rows: new Uint32Array(0) };

/** The fragment keys of a table's bucket, in key order. */
export async function listBucketFragments(store: ObjectStore, rawTable: RawTable, bucket: number): Promise<string[]> {
  const keys: string[] = [];
  for await (const obj of store.list(lake.curatedBucketPrefix(rawTable, bucket))) if (obj.key.endsWith('.parquet')) keys.push(obj.key);
  return keys;
}

/** Fragments fetched at once per table: a bucket has one per ingest day, each a small object. */
const FETCHES_IN_FLIGHT = 8;

export async function readBucketTable(store: ObjectStore, rawTable: RawTable, bucket: number): Promise<BucketTable> {
  const keys = await listBucketFragments(store, rawTable, bucket);
  const bodies = new Array<Uint8Array>(keys.length);
  let next = 0;
  const lane = async () => {
    while (next < keys.length) {
      const i = next++;
      bodies[i] = await store.get(keys[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCHES_IN_FLIGHT, keys.length) }, lane));
  // Decoded in key order (ingest date, then file hash), so the table's row order is deterministic.
  return dedupeTable(rawTable, keys.map((key, i) => readParquet(bodies[i]!, { source: key })));
}

/** Ranks of a column's distinct values in string order, per row (-1 for null). */
function ranks(table: Table, name: string): Int32Array {
  const { codes, values } = dictionaryCodes(utf8Column(table, name));
  const order = values.map((_, i) => i).sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : 0));
  const rankOf = new Int32Array(values.length);
  order.forEach((code, rank) => (rankOf[code] = rank));
  return codes.map((c) => (c < 0 ? -1 : rankOf[c]!));
}

/**
 * Concatenates fragments of one table and picks the winning row per primary key. Keys are hashed
 * from their UTF-8 bytes (a collision is resolved by comparing bytes), so no string is made per row.
 */
export function dedupeTable(rawTable: RawTable, parts: readonly Table[]): BucketTable {
  if (parts.length === 0) return EMPTY_BUCKET_TABLE;
  const table = parts.slice(1).reduce((acc, t) => acc.concat(t), parts[0]!);
  const n = table.numRows;
  const keys = PRIMARY_KEYS[rawTable].map((name) => utf8Column(table, name));
  const ingest = ranks(table, 'ingest_date');
  const source = ranks(table, 'source_file');
  const later = (a: number, b: number) => (ingest[a] !== ingest[b] ? ingest[a]! > ingest[b]! : source[a]! >= source[b]!);
  const sameKey = (a: number, b: number) => keys.every((c) => rowsEqual(c, a, c, b));
  const winner = new Map<number, number>();
  /** Keys whose hash another key already holds, by their text. */
  const collided = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (const c of keys) h = hashRow(c, i, h);
    const prev = winner.get(h);
    if (prev === undefined) winner.set(h, i);
    else if (sameKey(prev, i)) {
      if (later(i, prev)) winner.set(h, i);
    } else {
      const text = keys.map((c) => rowString(c, i)).join('\u0001');
      const other = collided.get(text);
      if (other === undefined || later(i, other)) collided.set(text, i);
    }
  }
  const rows = Uint32Array.from([...winner.values(), ...collided.values()]);
  return { table, rows: rows.sort() };
}
