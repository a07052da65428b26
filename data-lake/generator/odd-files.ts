/**
 * File-level messiness: how each file is encoded (compression, page version, dictionary,
 * row groups), empty files, and the corrupt mode's four odd files. The contract says a reader
 * must take any valid encoding, ignore extra columns and read a missing optional column as null,
 * and quarantine a file it cannot read or whose column type is wrong.
 */
import { type Data, Field, Schema, type Table, Utf8 } from 'apache-arrow';
import type { WriteParquetOptions } from '../../activities/io/parquet.js';
import { Utf8Builder } from './columns.js';
import type { Rng } from './prng.js';
import { tableOf } from './raw-rows.js';

export type CorruptionKind = 'truncated' | 'wrong-type' | 'extra-column' | 'missing-column';

export const PLAIN_FORMAT: Readonly<WriteParquetOptions> = { compression: 'snappy', dataPageVersion: 1, dictionary: true };

const COMPRESSIONS = ['snappy', 'zstd', 'gzip', 'uncompressed'] as const;
const ROW_GROUP_SIZES = [undefined, 1000, 10_000] as const;

/** How one file is encoded: always drawn, so the stream does not depend on the knob. */
export function drawFormat(rng: Rng, mixed: boolean): WriteParquetOptions {
  const compression = rng.pick(COMPRESSIONS);
  const dataPageVersion = rng.bernoulli(0.5) ? 2 : 1;
  const dictionary = rng.bernoulli(0.7);
  const rowGroupSize = rng.pick(ROW_GROUP_SIZES);
  if (!mixed) return { ...PLAIN_FORMAT };
  return rowGroupSize === undefined ? { compression, dataPageVersion, dictionary } : { compression, dataPageVersion, dictionary, rowGroupSize };
}

/** Bytes of a truncated file: the first half, so the footer is gone. */
export function truncate(bytes: Uint8Array): Uint8Array {
  return bytes.slice(0, Math.floor(bytes.length / 2));
}

/** The same rows with a number column written as text (`"4.2"`): a schema error, not a widening. */
export function withColumnAsText(table: Table, column: string): Table {
  const index = table.schema.fields.findIndex((f) => f.name === column);
  if (index < 0) throw new RangeError(`generator: no column ${column} to rewrite`);
  const text = new Utf8Builder();
  const vector = table.getChildAt(index)!;
  for (let i = 0; i < table.numRows; i++) {
    const v = vector.get(i) as number | null;
    text.append(v === null ? null : String(v));
  }
  const old = table.schema.fields[index]!;
  const fields = table.schema.fields.map((f, i) => (i === index ? new Field(old.name, new Utf8(), true, old.metadata) : f));
  const columns: Data[] = table.schema.fields.map((_, i) => (i === index ? text.finish() : columnData(table, i)));
  return tableOf(new Schema(fields, table.schema.metadata), columns, table.numRows);
}

/** The same rows plus a column the contract does not know. */
export function withExtraColumn(table: Table, name: string, value: string): Table {
  const extra = new Utf8Builder();
  for (let i = 0; i < table.numRows; i++) extra.append(value);
  const schema = new Schema([...table.schema.fields, new Field(name, new Utf8(), true)], table.schema.metadata);
  const columns: Data[] = table.schema.fields.map((_, i) => columnData(table, i));
  return tableOf(schema, [...columns, extra.finish()], table.numRows);
}

/** The same rows without one (optional) column. */
export function withoutColumn(table: Table, column: string): Table {
  return table.select(table.schema.names.filter((name) => name !== column) as string[]);
}

/** A column's one chunk (generated tables have one batch). */
function columnData(table: Table, index: number): Data {
  return table.getChildAt(index)!.data[0] as Data;
}
