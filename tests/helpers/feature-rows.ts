/** A feature shard as plain rows (times as epoch ms, nulls as null), for comparing with a reference row by row. */
import { DataType, type Table } from 'apache-arrow';
import { stringValues } from '../../activities/io/arrow-columns.js';
import { intOrFloatToFloat64, timestampColumnToMillis } from '../../activities/io/parquet.js';

export type Value = string | number | null;

export function rowsOf(table: Table): Record<string, Value>[] {
  const columns = table.schema.fields.map((f) => {
    const v = table.getChild(f.name)!;
    const values: Value[] = f.name.endsWith('_time') ? Array.from(timestampColumnToMillis(v), (x) => (Number.isNaN(x) ? null : x))
      : DataType.isUtf8(f.type) ? stringValues(v, table.numRows)
        : Array.from(intOrFloatToFloat64(v), (x) => (Number.isNaN(x) ? null : x));
    return [f.name, values] as const;
  });
  return Array.from({ length: table.numRows }, (_, i) => Object.fromEntries(columns.map(([name, values]) => [name, values[i] ?? null])));
}
