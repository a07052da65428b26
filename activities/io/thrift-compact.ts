/**
 * A reader for Thrift's compact protocol, the encoding of a Parquet footer, in plain JavaScript:
 * parquet-footer.ts reads a hostile file's footer here, outside parquet-wasm, so that looking at a
 * file (its size when decoded, its schema, `carepipe lake inspect`) can neither trap nor grow wasm
 * memory. Generic: a struct is a map from field id to value, so fields this code does not know
 * (newer Parquet versions) are read and ignored. Every length is checked against the bytes left and
 * nesting is capped, so a corrupt footer is a CorruptFileError, never a hang or a huge allocation.
 */
import { CorruptFileError } from '../../core/errors.js';

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftValue[] | ThriftStruct | Map<ThriftValue, ThriftValue>;
/** Field id -> value. */
export type ThriftStruct = Map<number, ThriftValue>;

/** Deeper than any Parquet footer nests (a schema is a flat list; a logical type is three levels). */
const MAX_DEPTH = 32;

export class CompactReader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
  ) {}

  private fail(what: string): never {
    throw new CorruptFileError(`parquet: cannot read the footer of ${this.source}: ${what} at byte ${this.pos} of ${this.bytes.length}`);
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end');
    return this.bytes[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    return this.fail('a varint longer than 10 bytes');
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  /** A length or count, checked against the bytes left (each element takes at least `unit` bytes). */
  private size(unit: number): number {
    const n = this.varint();
    if (n > BigInt(this.bytes.length - this.pos) / BigInt(Math.max(unit, 1)) + 1n) this.fail(`a length of ${n} past the end`);
    return Number(n);
  }

  private value(type: number, depth: number): ThriftValue {
    if (depth > MAX_DEPTH) this.fail('nesting deeper than 32');
    switch (type) {
      case 1:
        return true;
      case 2:
        return false;
      case 3:
        return (this.byte() << 24) >> 24;
      case 4:
      case 5:
        return Number(this.zigzag());
      case 6: {
        const v = this.zigzag();
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 7: {
        if (this.pos + 8 > this.bytes.length) this.fail('unexpected end');
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case 8: {
        const n = this.size(1);
        if (this.pos + n > this.bytes.length) this.fail('a string past the end');
        const v = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case 9:
      case 10: {
        const header = this.byte();
        const elem = header & 0x0f;
        const n = header >> 4 === 15 ? this.size(1) : header >> 4;
        const out: ThriftValue[] = [];
        // A boolean element is one byte in a list (1 true, otherwise false).
        for (let i = 0; i < n; i++) out.push(elem === 1 || elem === 2 ? this.byte() === 1 : this.value(elem, depth + 1));
        return out;
      }
      case 11: {
        const n = this.size(2);
        const out = new Map<ThriftValue, ThriftValue>();
        if (n === 0) return out;
        const kv = this.byte();
        for (let i = 0; i < n; i++) out.set(this.value(kv >> 4, depth + 1), this.value(kv & 0x0f, depth + 1));
        return out;
      }
      case 12:
        return this.struct(depth + 1);
      default:
        return this.fail(`unknown compact type ${type}`);
    }
  }

  struct(depth = 0): ThriftStruct {
    const out: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return out;
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      out.set(id, this.value(header & 0x0f, depth));
    }
  }
}
