/**
 * A string column as one flat UTF-8 buffer with offsets, so the feature build can hash, compare
 * and dictionary-encode strings without a JS string per row (which cost more in garbage
 * collection than the rest of the build). Values are decoded to strings once per distinct value.
 * Columns are flattened once per table and remembered.
 */
import { type Data, DataType, type Table, type Utf8, type Vector } from 'apache-arrow';
import { stringValues } from '../io/arrow-columns.js';

export interface Utf8Flat {
  length: number;
  bytes: Uint8Array;
  /** Row i is bytes[offsets[i], offsets[i + 1]). */
  offsets: Int32Array;
  /** 1 where the row is null; absent when none is. */
  isNull?: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fromStrings(values: (string | null)[]): Utf8Flat {
  const parts = values.map((v) => encoder.encode(v ?? ''));
  const offsets = new Int32Array(values.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
  const bytes = new Uint8Array(offsets[values.length]!);
  parts.forEach((p, i) => bytes.set(p, offsets[i]));
  const isNull = Uint8Array.from(values, (v) => (v === null ? 1 : 0));
  return { length: values.length, bytes, offsets, ...(isNull.includes(1) ? { isNull } : {}) };
}

/** Flattens a Utf8 column's chunks (copying their bytes once); other types go through strings. */
export function flattenUtf8(vector: Vector | null | undefined, length: number): Utf8Flat {
  if (!vector) return fromStrings(new Array<string | null>(length).fill(null));
  if (!DataType.isUtf8(vector.type)) return fromStrings(stringValues(vector, length));
  const chunks = vector.data as Data<Utf8>[];
  let total = 0;
  for (const d of chunks) total += d.valueOffsets[d.length]! - d.valueOffsets[0]!;
  const bytes = new Uint8Array(total);
  const offsets = new Int32Array(vector.length + 1);
  let isNull: Uint8Array | undefined;
  let row = 0;
  let at = 0;
  for (const d of chunks) {
    const vo = d.valueOffsets;
    const base = vo[0]!;
    bytes.set(d.values.subarray(base, vo[d.length]), at);
    for (let i = 0; i < d.length; i++) offsets[row + i + 1] = at + vo[i + 1]! - base;
    const bitmap = d.nullBitmap;
    if (d.nullCount > 0 && bitmap && bitmap.length > 0) {
      isNull ??= new Uint8Array(vector.length);
      for (let i = 0; i < d.length; i++) {
        const bit = d.offset + i;
        if ((bitmap[bit >> 3]! & (1 << (bit & 7))) === 0) isNull[row + i] = 1;
      }
    }
    at += vo[d.length]! - base;
    row += d.length;
  }
  return { length: vector.length, bytes, offsets, ...(isNull ? { isNull } : {}) };
}

const cache = new WeakMap<Table, Map<string, Utf8Flat>>();

/** The flattened column `name` of a table (all null when absent), computed once per table. */
export function utf8Column(table: Table, name: string): Utf8Flat {
  let columns = cache.get(table);
  if (!columns) cache.set(table, (columns = new Map<string, Utf8Flat>()));
  let flat = columns.get(name);
  if (!flat) columns.set(name, (flat = flattenUtf8(table.getChild(name), table.numRows)));
  return flat;
}

/**
 * A 30-bit hash of row i's bytes (FNV-1a, finalised), mixed with `seed` (to chain key columns).
 * 30 bits keep it a small integer, which Maps hash without allocating; callers compare bytes on
 * a hash match, so a collision costs a comparison, never a wrong answer.
 */
export function hashRow(c: Utf8Flat, i: number, seed = 0): number {
  let h = 0x811c9dc5 ^ seed;
  for (let k = c.offsets[i]!, end = c.offsets[i + 1]!; k < end; k++) h = Math.imul(h ^ c.bytes[k]!, 0x01000193);
  if (c.isNull?.[i]) h = ~h;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & 0x3fffffff;
}

export function rowsEqual(a: Utf8Flat, i: number, b: Utf8Flat, j: number): boolean {
  if ((a.isNull?.[i] ?? 0) !== (b.isNull?.[j] ?? 0)) return false;
  const ai = a.offsets[i]!;
  const bj = b.offsets[j]!;
  const len = a.offsets[i + 1]! - ai;
  if (len !== b.offsets[j + 1]! - bj) return false;
  for (let k = 0; k < len; k++) if (a.bytes[ai + k] !== b.bytes[bj + k]) return false;
  return true;
}

/** Byte order of two rows (UTF-8 byte order is code point order); null sorts first. */
export function compareRows(c: Utf8Flat, i: number, j: number): number {
  const ni = c.isNull?.[i] ?? 0;
  const nj = c.isNull?.[j] ?? 0;
  if (ni || nj) return nj - ni;
  const ai = c.offsets[i]!;
  const bj = c.offsets[j]!;
  const la = c.offsets[i + 1]! - ai;
  const lb = c.offsets[j + 1]! - bj;
  for (let k = 0, n = Math.min(la, lb); k < n; k++) {
    const d = c.bytes[ai + k]! - c.bytes[bj + k]!;
    if (d !== 0) return d;
  }
  return la - lb;
}

export function rowString(c: Utf8Flat, i: number): string | null {
  return c.isNull?.[i] ? null : decoder.decode(c.bytes.subarray(c.offsets[i], c.offsets[i + 1]));
}

export interface Utf8Codes {
  /** Per row, an index into `values`; -1 for null. */
  codes: Int32Array;
  values: string[];
}

/**
 * Dictionary codes of a column, in order of first appearance. A run of equal values (a file's
 * ingest date, a patient's consecutive rows) costs one byte comparison a row; a new value one
 * hash lookup; a distinct value one string.
 */
export function dictionaryCodes(c: Utf8Flat): Utf8Codes {
  const { bytes, offsets, isNull } = c;
  const codes = new Int32Array(c.length);
  const values: string[] = [];
  /** A row holding each code's value. */
  const sample: number[] = [];
  const byHash = new Map<number, number>();
  let prev = -1;
  for (let i = 0; i < c.length; i++) {
    if (isNull !== undefined && isNull[i] === 1) {
      codes[i] = -1;
      continue;
    }
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (prev >= 0) {
      const pf = offsets[prev]!;
      if (offsets[prev + 1]! - pf === to - from) {
        let k = 0;
        while (k < to - from && bytes[from + k] === bytes[pf + k]) k++;
        if (k === to - from) {
          codes[i] = codes[prev]!;
          prev = i;
          continue;
        }
      }
    }
    const h = hashRow(c, i);
    let code = byHash.get(h);
    if (code === undefined || !rowsEqual(c, i, c, sample[code]!)) {
      // A new value, or a hash collision (then look the value up among all codes).
      code = code === undefined ? -1 : sample.findIndex((row) => rowsEqual(c, i, c, row));
      if (code < 0) {
        code = values.length;
        values.push(rowString(c, i)!);
        sample.push(i);
        if (!byHash.has(h)) byHash.set(h, code);
      }
    }
    codes[i] = code;
    prev = i;
  }
  return { codes, values };
}
