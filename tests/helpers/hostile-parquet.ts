/**
 * Raw patients files with one hostile feature each (tests/unit/parquet-safety.test.ts): a 1 MB
 * string, nested and map columns, odd column names. Built with Arrow JS
 * and written by the pipeline's own writer, so every fixture's expected values sit beside it.
 */
import { DateDay, Field, Int32, List, Map_, Struct, Table, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { writeParquet } from '../../activities/io/parquet.js';

export const PATIENT_ROWS = 5;

/** The contract's required patients columns, PATIENT_ROWS valid rows (P0..P4). */
export function patientColumns(): Record<string, Vector> {
  const ids = Array.from({ length: PATIENT_ROWS }, (_, i) => `P${i}`);
  return {
    patient_id: vectorFromArray(ids, new Utf8()),
    first_name: vectorFromArray(
      ids.map(() => 'Ann'),
      new Utf8(),
    ),
    last_name: vectorFromArray(
      ids.map(() => 'Lee'),
      new Utf8(),
    ),
    birth_date: vectorFromArray(
      ids.map((_, i) => new Date(Date.UTC(1960 + i, 0, 1))),
      new DateDay(),
    ),
    sex: vectorFromArray(
      ids.map((_, i) => (i % 2 ? 'F' : 'M')),
      new Utf8(),
    ),
  };
}

export function patientsFile(columns: Record<string, Vector>): Uint8Array {
  return writeParquet(new Table(columns));
}

/** Extra columns beside the contract's: a struct nested three deep, a map, and a list of structs. */
export function nestedColumns(): Record<string, Vector> {
  const inner = new Struct([new Field('leaf', new Int32(), true)]);
  const middle = new Struct([new Field('inner', inner, true)]);
  const outer = new Struct([new Field('middle', middle, true)]);
  const entries = new Struct<{ key: Utf8; value: Int32 }>([new Field('key', new Utf8(), false), new Field('value', new Int32(), true)]);
  const map = new Map_<Utf8, Int32>(new Field('entries', entries, false));
  const list = new List(new Field('item', new Struct([new Field('code', new Utf8(), true)]), true));
  const n = PATIENT_ROWS;
  return {
    deep: vectorFromArray(
      Array.from({ length: n }, (_, i) => ({ middle: { inner: { leaf: i } } })),
      outer,
    ),
    attributes: vectorFromArray(
      Array.from({ length: n }, (_, i) => new Map([[`k${i}`, i]])),
      map,
    ),
    codes: vectorFromArray(
      Array.from({ length: n }, (_, i) => [{ code: `c${i}` }]),
      list,
    ),
  };
}
