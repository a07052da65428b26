/**
 * Reads the curated fragments of a table that a bucket's plan names into one Arrow table,
 * resolving corrections: per primary key, the row from the latest ingest date (then the latest
 * file name) wins. Every row is kept in the table (superseded rows tell when the lake first
 * learnt something); `rows` lists the winners.
 */
import type { Table } from 'apache-arrow';
import type { RawTable } from '../../data-lake/layout.js';
import { isPausePoint, type Pace, type Paced, runPaced, runSync } from '../context.js';
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

/** Fragments fetched ahead of the one being decoded: each is a small object. */
const FETCHES_AHEAD = 8;

/**
 * Reads the given fragments of one table (the plan's, already in the contract's order: ingest
 * date, then file name) and resolves corrections. Fetches run a few ahead while fragments are
 * decoded one at a time, with `pace` offered after each: a year of daily files is over a thousand
 * fragments a bucket, whose decoding in one synchronous run kept the worker's only JavaScript
 * thread from heartbeats and workflow tasks for seconds.
 */
export async function readBucketTable(store: ObjectStore, rawTable: RawTable, keys: readonly string[], pace: Pace): Promise<BucketTable> {
  const fetched = new Array<Promise<Uint8Array> | undefined>(keys.length);
  const fetch = (i: number) => {
    if (i >= keys.length) return;
    const body = store.get(keys[i]!);
    body.catch(() => undefined); // awaited below, in order; until then a failure must not count as unhandled
    fetched[i] = body;
  };
  for (let i = 0; i < FETCHES_AHEAD; i++) fetch(i);
  const parts: Table[] = [];
  for (let i = 0; i < keys.length; i++) {
    const body = await fetched[i]!;
    fetched[i] = undefined;
    fetch(i + FETCHES_AHEAD);
    parts.push(readParquet(body, { source: keys[i]! }));
    await pace();
  }
  return runPaced(dedupeRows(rawTable, parts), pace);
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
 * The winner depends only on the rows' `ingest_date` and `source_file` (and, for copies within one
 * file, on their order in it): never on fragment keys, which are content hashes.
 */
export function dedupeTable(rawTable: RawTable, parts: readonly Table[]): BucketTable {
  return runSync(dedupeRows(rawTable, parts));
}

/** dedupeTable as a paced computation (context.ts). */
export function* dedupeRows(rawTable: RawTable, parts: readonly Table[]): Paced<BucketTable> {
  if (parts.length === 0) return EMPTY_BUCKET_TABLE;
  // One concat of all parts: folding them pairwise rebuilt the batch list once per fragment.
  const table = parts[0]!.concat(...parts.slice(1));
  yield;
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
    if (isPausePoint(i)) yield;
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
