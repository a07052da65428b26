/** A feature shard as plain rows (times as epoch ms, nulls as null), for comparing with a reference row by row. */
import { DataType, type Table } from 'apache-arrow';
import { stringValues } from '../../activities/io/arrow-columns.js';
import { intOrFloatToFloat64, timestampColumnToMillis } from '../../activities/io/parquet.js';

export type Value = string | number | null;

export function rowsOf(table: Table): Record<string, Value>[] {
  const columns = table.schema.fields.map((f) => {
    const v = table.getChild(f.name)!;
    const values: Value[] = f.name.endsWith('_time')
      ? Array.from(timestampColumnToMillis(v), (x) => (Number.isNaN(x) ? null : x))
      : DataType.isUtf8(f.type)
        ? stringValues(v, table.numRows)
        : Array.from(intOrFloatToFloat64(v), (x) => (Number.isNaN(x) ? null : x));
    return [f.name, values] as const;
  });
  return Array.from({ length: table.numRows }, (_, i) => Object.fromEntries(columns.map(([name, values]) => [name, values[i] ?? null])));
}

/**
 * Every value of every row against the reference row of its encounter (floats within 1e-9,
 * relative past 1): the values compared, the first mismatches, and rows whose columns differ.
 */
export function compareRows(rows: readonly Record<string, Value>[], reference: Record<string, Record<string, Value>>) {
  let compared = 0;
  const mismatches: string[] = [];
  const columnMismatches: string[] = [];
  for (const row of rows) {
    const expected = reference[row.encounter_id as string]!;
    if (Object.keys(row).sort().join() !== Object.keys(expected).sort().join()) columnMismatches.push(String(row.encounter_id));
    for (const [column, value] of Object.entries(row)) {
      const want = expected[column] ?? null;
      const same = typeof value === 'number' && typeof want === 'number' ? Math.abs(value - want) <= 1e-9 * Math.max(1, Math.abs(want)) : value === want;
      if (!same) mismatches.push(`${String(row.encounter_id)}.${column}: ${String(value)} != ${String(want)}`);
      compared++;
    }
  }
  return { compared, mismatches: mismatches.slice(0, 20), columnMismatches: columnMismatches.slice(0, 20) };
}
