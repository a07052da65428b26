/**
 * Reads one bucket's curated fragments of a table into one Arrow table, resolving corrections:
 * per primary key, the row from the latest ingest date (then the latest file name) wins.
 */
import { type Table } from 'apache-arrow';
import { lake, type RawTable } from '../../data-lake/layout.js';
import { stringValues } from '../io/arrow-columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet } from '../io/parquet.js';

const PRIMARY_KEYS: Record<RawTable, string[]> = {
  patients: ['patient_key'],
  encounters: ['encounter_id'],
  diagnoses: ['encounter_id', 'icd10'],
  lab_results: ['lab_id'],
};

export interface BucketTable {
  table: Table | null;
  /** Row indices of `table` that survive deduplication, in stored order. */
  rows: Uint32Array;
}

export async function readBucketTable(store: ObjectStore, rawTable: RawTable, bucket: number): Promise<BucketTable> {
  const parts: Table[] = [];
  for await (const obj of store.list(lake.curatedBucketPrefix(rawTable, bucket))) {
    if (obj.key.endsWith('.parquet')) parts.push(readParquet(await store.get(obj.key), { source: obj.key }));
  }
  if (parts.length === 0) return { table: null, rows: new Uint32Array(0) };
  const table = parts.slice(1).reduce((acc, t) => acc.concat(t), parts[0]!);
  const n = table.numRows;
  const keyCols = PRIMARY_KEYS[rawTable].map((name) => stringValues(table.getChild(name), n));
  const ingest = stringValues(table.getChild('ingest_date'), n);
  const source = stringValues(table.getChild('source_file'), n);
  const winner = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = keyCols.map((c) => c[i]).join('\u0001');
    const prev = winner.get(key);
    if (prev === undefined) {
      winner.set(key, i);
      continue;
    }
    const a = `${ingest[prev]}\u0001${source[prev]}`;
    const b = `${ingest[i]}\u0001${source[i]}`;
    if (b >= a) winner.set(key, i);
  }
  return { table, rows: Uint32Array.from([...winner.values()].sort((x, y) => x - y)) };
}
