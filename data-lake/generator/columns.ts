/**
 * Growable column builders that end as Arrow Data without an object per value: strings go
 * straight into a byte buffer with their offsets, numbers into typed arrays, nulls into a
 * validity bitmap. Generated strings are ASCII (checked), so no encoder runs per value.
 */
import { Bool, type Data, DateDay, Float64, Int32, TimestampMillisecond, Utf8, makeData } from 'apache-arrow';

abstract class Validity {
  length = 0;
  nullCount = 0;
  private bits = new Uint8Array(64);

  protected markValid(valid: boolean): void {
    const i = this.length;
    if (i >> 3 >= this.bits.length) this.bits = grow(this.bits, (i >> 3) + 1);
    if (valid) this.bits[i >> 3]! |= 1 << (i & 7);
    else this.nullCount++;
    this.length++;
  }

  protected bitmap(): Uint8Array | undefined {
    return this.nullCount === 0 ? undefined : this.bits.slice(0, (this.length + 7) >> 3);
  }
}

function grow<T extends Uint8Array | Int32Array | Float64Array>(array: T, minLength: number): T {
  const next = new (array.constructor as new (n: number) => T)(Math.max(minLength, array.length * 2));
  next.set(array);
  return next;
}

export class Utf8Builder extends Validity {
  private offsets = new Int32Array(64);
  private bytes = new Uint8Array(512);

  append(value: string | null): void {
    const start = this.offsets[this.length]!;
    let end = start;
    if (value !== null) {
      if (start + value.length > this.bytes.length) this.bytes = grow(this.bytes, start + value.length);
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 127) throw new RangeError('generator: generated strings must be ASCII');
        this.bytes[end++] = c;
      }
    }
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = end;
    this.markValid(value !== null);
  }

  finish(): Data<Utf8> {
    const n = this.length;
    return makeData({
      type: new Utf8(),
      length: n,
      nullCount: this.nullCount,
      nullBitmap: this.bitmap(),
      valueOffsets: this.offsets.slice(0, n + 1),
      data: this.bytes.slice(0, this.offsets[n]),
    });
  }
}

/** float64; NaN appends a null. */
export class Float64Builder extends Validity {
  private values = new Float64Array(64);

  append(value: number): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    const valid = !Number.isNaN(value);
    this.values[this.length] = valid ? value : 0;
    this.markValid(valid);
  }

  finish(): Data<Float64> {
    const n = this.length;
    return makeData({ type: new Float64(), length: n, nullCount: this.nullCount, nullBitmap: this.bitmap(), data: this.values.slice(0, n) });
  }
}

/** Epoch milliseconds as timestamp[ms, UTC]; NaN appends a null. */
export class TimestampMsBuilder extends Validity {
  // Little-endian int64 as (low, high) int32 pairs: exact for |ms| < 2^53 without BigInt per value.
  private words = new Int32Array(128);

  append(ms: number): void {
    if (2 * this.length + 2 > this.words.length) this.words = grow(this.words, 2 * this.length + 2);
    const valid = !Number.isNaN(ms);
    const v = valid ? ms : 0;
    const high = Math.floor(v / 4294967296);
    this.words[2 * this.length] = (v - high * 4294967296) | 0;
    this.words[2 * this.length + 1] = high;
    this.markValid(valid);
  }

  finish(): Data<TimestampMillisecond> {
    const n = this.length;
    const data = new BigInt64Array(this.words.slice(0, 2 * n).buffer);
    return makeData({ type: new TimestampMillisecond('UTC'), length: n, nullCount: this.nullCount, nullBitmap: this.bitmap(), data });
  }
}

class Int32LikeBuilder extends Validity {
  protected values = new Int32Array(64);

  append(value: number | null): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = value ?? 0;
    this.markValid(value !== null);
  }
}

export class Int32Builder extends Int32LikeBuilder {
  finish(): Data<Int32> {
    const n = this.length;
    return makeData({ type: new Int32(), length: n, nullCount: this.nullCount, nullBitmap: this.bitmap(), data: this.values.slice(0, n) });
  }
}

/** Days since 1970-01-01 as date32. */
export class DateDayBuilder extends Int32LikeBuilder {
  finish(): Data<DateDay> {
    const n = this.length;
    return makeData({ type: new DateDay(), length: n, nullCount: this.nullCount, nullBitmap: this.bitmap(), data: this.values.slice(0, n) });
  }
}

export class BoolBuilder extends Validity {
  private values = new Uint8Array(16);

  append(value: boolean): void {
    const i = this.length;
    if (i >> 3 >= this.values.length) this.values = grow(this.values, (i >> 3) + 1);
    if (value) this.values[i >> 3]! |= 1 << (i & 7);
    this.markValid(true);
  }

  finish(): Data<Bool> {
    const n = this.length;
    return makeData({ type: new Bool(), length: n, nullCount: 0, data: this.values.slice(0, (n + 7) >> 3) });
  }
}
