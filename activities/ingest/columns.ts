/**
 * Curated columns as typed arrays, with `take` (gather rows by index) and conversion to Arrow.
 * Nulls: NaN in float and time columns, NULL_DAY in date columns, null in string columns.
 */
import { Table, type Vector } from 'apache-arrow';
import { NULL_DAY, date32Vector, float64Vector, int32Vector, timestampMsVector, utf8Vector } from '../io/arrow-columns.js';

export type CuratedColumn =
  | { name: string; kind: 'string'; values: (string | null)[] }
  | { name: string; kind: 'float'; values: Float64Array }
  | { name: string; kind: 'int'; values: Int32Array }
  | { name: string; kind: 'timestamp'; values: Float64Array }
  | { name: string; kind: 'date'; values: Int32Array };

export function take(column: CuratedColumn, rows: Uint32Array): CuratedColumn {
  switch (column.kind) {
    case 'string':
      return { ...column, values: Array.from(rows, (r) => column.values[r] ?? null) };
    case 'float':
    case 'timestamp': {
      const out = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = column.values[rows[i]!]!;
      return { ...column, values: out };
    }
    case 'int':
    case 'date': {
      const out = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = column.values[rows[i]!]!;
      return { ...column, values: out };
    }
  }
}

function toVector(column: CuratedColumn): Vector {
  switch (column.kind) {
    case 'string':
      return utf8Vector(column.values);
    case 'float':
      return float64Vector(column.values);
    case 'int':
      return int32Vector(column.values);
    case 'timestamp':
      return timestampMsVector(column.values);
    case 'date':
      return date32Vector(column.values);
  }
}

export function toTable(columns: readonly CuratedColumn[]): Table {
  return new Table(Object.fromEntries(columns.map((c) => [c.name, toVector(c)])));
}

export { NULL_DAY };
