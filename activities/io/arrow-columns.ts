/**
 * Builds Arrow vectors from typed arrays without an object per value: NaN (floats, times) and
 * -2^31 (dates) mark nulls and become a validity bitmap. And the reverse for reading.
 */
import { DateDay, Float64, Int32, Int64, TimestampMillisecond, Utf8, type Data, type DataType, type Vector, makeData, makeVector } from 'apache-arrow';

export const NULL_DAY = -2147483648;

function validity(length: number, isValid: (i: number) => boolean): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (isValid(i)) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { nullBitmap, nullCount };
}

export function float64Vector(values: Float64Array): Vector<Float64> {
  const { nullBitmap, nullCount } = validity(values.length, (i) => !Number.isNaN(values[i]!));
  return makeVector(makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap, data: values }));
}

export function int32Vector(values: Int32Array, valid?: Uint8Array): Vector<Int32> {
  const { nullBitmap, nullCount } = validity(values.length, (i) => (valid ? valid[i] === 1 : true));
  return makeVector(makeData({ type: new Int32(), length: values.length, nullCount, nullBitmap, data: values }));
}

export function int64Vector(values: Float64Array): Vector<Int64> {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Number.isNaN(values[i]!) ? 0n : BigInt(Math.trunc(values[i]!));
  const { nullBitmap, nullCount } = validity(values.length, (i) => !Number.isNaN(values[i]!));
  return makeVector(makeData({ type: new Int64(), length: values.length, nullCount, nullBitmap, data }));
}

/** Epoch milliseconds (NaN = null) as timestamp[ms, UTC]. */
export function timestampMsVector(ms: Float64Array): Vector<TimestampMillisecond> {
  const data = new BigInt64Array(ms.length);
  for (let i = 0; i < ms.length; i++) data[i] = Number.isNaN(ms[i]!) ? 0n : BigInt(Math.round(ms[i]!));
  const { nullBitmap, nullCount } = validity(ms.length, (i) => !Number.isNaN(ms[i]!));
  return makeVector(makeData({ type: new TimestampMillisecond('UTC'), length: ms.length, nullCount, nullBitmap, data }));
}

/** Days since the epoch (NULL_DAY = null) as date32. */
export function date32Vector(days: Int32Array): Vector<DateDay> {
  const { nullBitmap, nullCount } = validity(days.length, (i) => days[i] !== NULL_DAY);
  const data = Int32Array.from(days, (d) => (d === NULL_DAY ? 0 : d));
  return makeVector(makeData({ type: new DateDay(), length: days.length, nullCount, nullBitmap, data }));
}

/**
 * One buffer for all values and one offsets array: much cheaper than Arrow's builder, which
 * encodes and grows buffers value by value (it was the top cost of curating a file).
 */
export function utf8Vector(values: ReadonlyArray<string | null>): Vector<Utf8> {
  const n = values.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) bytes += Buffer.byteLength(v, 'utf8');
  }
  const data = Buffer.allocUnsafe(bytes);
  const valueOffsets = new Int32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) at += data.write(v, at, 'utf8');
    valueOffsets[i + 1] = at;
  }
  const { nullBitmap, nullCount } = validity(n, (i) => values[i] !== null && values[i] !== undefined);
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount, nullBitmap, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, bytes) }));
}

/** A column's values as strings (dictionary-encoded columns decoded), nulls as null. */
export function stringValues(vector: Vector | null | undefined, length: number): (string | null)[] {
  if (!vector) return new Array<string | null>(length).fill(null);
  const out = new Array<string | null>(vector.length);
  let i = 0;
  for (const v of vector as Iterable<string | number | bigint | boolean | null | undefined>) out[i++] = v === null || v === undefined ? null : String(v);
  return out;
}

export type AnyData = Data<DataType>;
