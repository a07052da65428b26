/**
 * Copies row ranges of Arrow tables into one new table of a single record batch, buffer by buffer
 * (values, offsets, validity bits), without an object per value. Compaction builds a generation
 * from slices of the previous generation and new fragments: Arrow's zero-copy slices and concat
 * would keep the sources' batch boundaries, and the Parquet writer cuts pages at batch
 * boundaries, so the same rows reached by two histories would give different bytes. One batch
 * makes the file a function of its rows.
 *
 * Handles the fixed-width types (ints, floats, dates, timestamps) and Utf8: the types of every
 * curated table. Anything else is refused rather than guessed at.
 */
import { type Data, DataType, type Field, makeData, RecordBatch, Schema, Struct, Table, type TypeMap } from 'apache-arrow';
import { InvalidInputError } from '../../core/errors.js';

export interface RowRun {
  /** Index of the source table. */
  source: number;
  /** Rows [start, end) of that table. */
  start: number;
  end: number;
}

interface Piece {
  data: Data<DataType>;
  /** Rows [from, to) of the chunk, relative to the chunk (its own offset not included). */
  from: number;
  to: number;
}

/** The chunks of column `col` of `table` covering rows [start, end), in order. */
function pieces(table: Table, col: number, start: number, end: number): Piece[] {
  const out: Piece[] = [];
  let base = 0;
  for (const data of table.getChildAt(col)!.data as Data<DataType>[]) {
    const lo = Math.max(start, base);
    const hi = Math.min(end, base + data.length);
    if (lo < hi) out.push({ data, from: lo - base, to: hi - base });
    base += data.length;
    if (base >= end) break;
  }
  return out;
}

function copyValidity(bits: Uint8Array, at: number, p: Piece): number {
  const { data, from, to } = p;
  let nulls = 0;
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) {
    for (let i = 0; i < to - from; i++) bits[(at + i) >> 3]! |= 1 << ((at + i) & 7);
    return 0;
  }
  const src = data.nullBitmap;
  for (let i = from; i < to; i++) {
    const s = data.offset + i;
    const j = at + i - from;
    if (src[s >> 3]! & (1 << (s & 7))) bits[j >> 3]! |= 1 << (j & 7);
    else nulls++;
  }
  return nulls;
}

function gatherColumn(type: DataType, parts: Piece[], length: number): Data {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  let at = 0;
  for (const p of parts) {
    nullCount += copyValidity(nullBitmap, at, p);
    at += p.to - p.from;
  }
  if (DataType.isUtf8(type)) {
    let bytes = 0;
    for (const { data, from, to } of parts) {
      const offs = data.valueOffsets as Int32Array;
      bytes += offs[data.offset + to]! - offs[data.offset + from]!;
    }
    const values = new Uint8Array(bytes);
    const valueOffsets = new Int32Array(length + 1);
    let row = 0;
    let pos = 0;
    for (const { data, from, to } of parts) {
      const offs = data.valueOffsets as Int32Array;
      const first = offs[data.offset + from]!;
      const last = offs[data.offset + to]!;
      values.set((data.values as Uint8Array).subarray(first, last), pos);
      for (let i = from; i < to; i++) valueOffsets[++row] = pos + offs[data.offset + i + 1]! - first;
      pos += last - first;
    }
    return makeData({ type, length, nullCount, nullBitmap, valueOffsets, data: values });
  }
  if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDate(type) || DataType.isTimestamp(type)) {
    const stride = parts[0]?.data.stride ?? 1;
    const ArrayType = type.ArrayType as new (n: number) => Int32Array | Float64Array | BigInt64Array;
    const values = new ArrayType(length * stride);
    let row = 0;
    for (const { data, from, to } of parts) {
      const src = data.values as typeof values;
      (values as Int32Array).set((src as Int32Array).subarray((data.offset + from) * stride, (data.offset + to) * stride), row * stride);
      row += to - from;
    }
    return makeData({ type, length, nullCount, nullBitmap, data: values } as Parameters<typeof makeData>[0]);
  }
  throw new InvalidInputError(`arrow gather: column type id ${type.typeId} is not supported`);
}

/**
 * The rows of `runs`, in order, as one table of one batch, with the schema (fields, metadata) of
 * the first source. Every source must have that schema's field names and types.
 */
export function gatherRuns(sources: readonly Table[], runs: readonly RowRun[]): Table {
  const schema = sources[0]?.schema;
  if (!schema) throw new InvalidInputError('arrow gather: no source table');
  for (const [i, t] of sources.entries()) {
    const same =
      t.schema.fields.length === schema.fields.length &&
      t.schema.fields.every((f, j) => f.name === schema.fields[j]!.name && String(f.type) === String(schema.fields[j]!.type));
    if (!same)
      throw new InvalidInputError(
        `arrow gather: source ${i} has columns (${t.schema.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')}), not the first source's`,
      );
  }
  const length = runs.reduce((n, r) => n + (r.end - r.start), 0);
  const fields = schema.fields as Field<DataType>[];
  const children = fields.map((field, col) =>
    gatherColumn(
      field.type,
      runs.flatMap((r) => pieces(sources[r.source]!, col, r.start, r.end)),
      length,
    ),
  );
  const out = new Schema<TypeMap>(fields, schema.metadata);
  const struct = makeData({ type: new Struct<TypeMap>(fields), length, nullCount: 0, children });
  return new Table(out, [new RecordBatch(out, struct)]);
}
