/**
 * Column normalisers for what readParquet returns: any timestamp or date to epoch milliseconds,
 * any integer or float to float64. Both return a Float64Array with NaN for null, which is why
 * Float64Array and not BigInt64Array: a null needs an in-band marker, arithmetic on numbers is
 * many times faster than on BigInts, and `new Date(ms)` takes it directly. Every integer of
 * milliseconds within +/-2^53 (about 285,000 years) is exact in a float64.
 *
 * Each function branches on the column type once, then loops over typed arrays. 64-bit integers
 * are read as two 32-bit words (this assumes a little-endian platform, as every Node target is),
 * which is several times faster than converting each BigInt with Number().
 */
import { type Data, DataType, DateUnit, Precision, TimeUnit, type Vector } from 'apache-arrow';
import { SchemaMismatchError } from '../../core/errors.js';

const TWO_32 = 4_294_967_296;
const MS_PER_DAY = 86_400_000;

/** Writes `length` converted values of one chunk's value buffer into `out` from `at`. */
type Fill = (values: unknown, out: Float64Array, at: number, length: number) => void;

/**
 * Epoch milliseconds of a timestamp (second, milli, micro or nanosecond; any timezone, since
 * Arrow stores UTC instants), date32 or date64 column; null as NaN. Sub-millisecond parts are
 * floored (towards the past, also before 1970), exactly: nanoseconds near 2^60 are never rounded
 * through a float. A column of Arrow type Null gives all NaN.
 */
export function timestampColumnToMillis(vector: Vector, column = 'column'): Float64Array {
  const type: unknown = vector.type;
  if (DataType.isNull(type)) return new Float64Array(vector.length).fill(NaN);
  let fill: Fill;
  if (DataType.isTimestamp(type)) fill = int64ToMillis(type.unit);
  else if (DataType.isDate(type)) fill = type.unit === DateUnit.DAY ? daysToMillis : int64ToMillis(TimeUnit.MILLISECOND);
  else throw new SchemaMismatchError(`arrow: column ${column} is ${String(type)}, not a timestamp or date`);
  return convert(vector, fill);
}

/**
 * Float64 values of an integer (8 to 64 bits, signed or not) or float32/float64 column; null as
 * NaN. 64-bit integers beyond +/-2^53 are rounded to the nearest float64. A column of Arrow type
 * Null gives all NaN. Anything else (utf8, decimal, float16) is a SchemaMismatchError.
 */
export function intOrFloatToFloat64(vector: Vector, column = 'column'): Float64Array {
  const type: unknown = vector.type;
  if (DataType.isNull(type)) return new Float64Array(vector.length).fill(NaN);
  let fill: Fill | undefined;
  if (DataType.isFloat(type) && type.precision !== Precision.HALF) fill = copyNumbers;
  else if (DataType.isInt(type)) fill = type.bitWidth < 64 ? copyNumbers : type.isSigned ? int64ToNumber : uint64ToNumber;
  if (fill === undefined) throw new SchemaMismatchError(`arrow: column ${column} is ${String(type)}, not an integer or float`);
  return convert(vector, fill);
}

function convert(vector: Vector, fill: Fill): Float64Array {
  const out = new Float64Array(vector.length);
  let at = 0;
  for (const data of vector.data as Data[]) {
    fill(data.values, out, at, data.length);
    markNulls(data, out, at);
    at += data.length;
  }
  return out;
}

/** Sets NaN where the validity bitmap says null. Sliced chunks keep their bitmap with an offset. */
function markNulls(data: Data, out: Float64Array, at: number): void {
  const bitmap = data.nullBitmap;
  if (bitmap === undefined || bitmap.length === 0 || data.nullCount === 0) return;
  const offset = data.offset;
  for (let i = 0; i < data.length; i++) {
    const bit = offset + i;
    if ((bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) out[at + i] = NaN;
  }
}

type NumberArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

function isNumberArray(values: unknown): values is NumberArray {
  return ArrayBuffer.isView(values) && !(values instanceof DataView) && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array);
}

/** Ints up to 32 bits and floats: TypedArray.set converts element types natively. */
const copyNumbers: Fill = (values, out, at, length) => {
  if (!isNumberArray(values)) throw new TypeError('arrow: expected a numeric typed array of values');
  out.set(values.subarray(0, length), at);
};

/** The 32-bit words of a 64-bit value buffer: [low, high] per value on little-endian machines. */
function words<T extends Int32ArrayConstructor | Uint32ArrayConstructor>(values: unknown, kind: T, length: number): InstanceType<T> {
  if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
    throw new TypeError('arrow: expected a 64-bit integer array of values');
  }
  return new kind(values.buffer as ArrayBuffer, values.byteOffset, length * 2) as InstanceType<T>;
}

const int64ToNumber: Fill = (values, out, at, length) => {
  const w = words(values, Int32Array, length);
  for (let i = 0; i < length; i++) out[at + i] = w[2 * i + 1]! * TWO_32 + (w[2 * i]! >>> 0);
};

const uint64ToNumber: Fill = (values, out, at, length) => {
  const w = words(values, Uint32Array, length);
  for (let i = 0; i < length; i++) out[at + i] = w[2 * i + 1]! * TWO_32 + w[2 * i]!;
};

const daysToMillis: Fill = (values, out, at, length) => {
  if (!(values instanceof Int32Array)) throw new TypeError('arrow: expected an Int32Array of days');
  for (let i = 0; i < length; i++) out[at + i] = values[i]! * MS_PER_DAY;
};

function int64ToMillis(unit: TimeUnit): Fill {
  switch (unit) {
    case TimeUnit.SECOND:
      return (values, out, at, length) => {
        int64ToNumber(values, out, at, length);
        for (let i = at; i < at + length; i++) out[i] = out[i]! * 1000;
      };
    case TimeUnit.MILLISECOND:
      return int64ToNumber;
    case TimeUnit.MICROSECOND:
      return floorDivide(1_000);
    case TimeUnit.NANOSECOND:
      return floorDivide(1_000_000);
  }
}

/**
 * floor(v / divisor) for signed 64-bit v = hi * 2^32 + lo, without rounding v through a float:
 * with 2^32 = q * divisor + r, floor(v / divisor) = hi * q + floor((hi * r + lo) / divisor),
 * where |hi * r + lo| < 2^52 is exact and the quotient is far enough from the next integer for
 * the float division to floor correctly.
 */
function floorDivide(divisor: number): Fill {
  const q = Math.floor(TWO_32 / divisor);
  const r = TWO_32 - q * divisor;
  return (values, out, at, length) => {
    const w = words(values, Int32Array, length);
    for (let i = 0; i < length; i++) {
      const hi = w[2 * i + 1]!;
      out[at + i] = hi * q + Math.floor((hi * r + (w[2 * i]! >>> 0)) / divisor);
    }
  };
}
