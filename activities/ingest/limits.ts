/**
 * Bounds on what one raw file may cost curation, checked before the expensive step they guard:
 * - the decoded size, from the footer (io/parquet-footer.ts, plain JavaScript) before parquet-wasm
 *   decodes anything: a 4 KB file can decode to 2 GiB (apache/parquet-testing's
 *   large_string_map.brotli.parquet), which once took 90 s and trapped;
 * - the schema, from the footer's Arrow schema, before the data is decoded;
 * - string lengths, from the Arrow offsets (no string is materialised): a row with a string longer
 *   than the bound in a contract column is rejected (`string_too_long`), the rest of the file kept.
 */
import { DataType, type Table, type Vector } from 'apache-arrow';
import { type IngestLimits, DEFAULT_INGEST_LIMITS } from '../../core/config.js';
import { readFooter } from '../io/parquet-footer.js';
import { CONTRACT } from './contract.js';
import type { RawTable } from '../../data-lake/layout.js';

export type CurateLimits = Pick<IngestLimits, 'maxDecodedBytes' | 'maxStringBytes'>;

export const DEFAULT_CURATE_LIMITS: CurateLimits = {
  maxDecodedBytes: DEFAULT_INGEST_LIMITS.maxDecodedBytes,
  maxStringBytes: DEFAULT_INGEST_LIMITS.maxStringBytes,
};

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** A quarantine reason when the file's columns would decode to more than the bound; throws CorruptFileError for a bad footer. */
export function decodedSizeBreach(bytes: Uint8Array, source: string, limits: CurateLimits): string | null {
  const footer = readFooter(bytes, bytes.length, source);
  if (footer.uncompressedBytes <= limits.maxDecodedBytes) return null;
  return `${source}: its footer says its columns decode to ${mib(footer.uncompressedBytes)} (${footer.rows} rows), over ingest's decoded-size cap of ${mib(limits.maxDecodedBytes)} (CAREPIPE_INGEST_MAX_DECODED_MB); not decoded`;
}

/** Rows (ascending) whose value in any of the table's contract string columns is longer than `maxBytes` UTF-8 bytes. */
export function longStringRows(table: Table, rawTable: RawTable, maxBytes: number): number[] {
  const rows = new Set<number>();
  for (const c of CONTRACT[rawTable].columns) {
    if (c.kind !== 'string') continue;
    const vector = table.getChild(c.name);
    if (vector) for (const row of longValues(vector, maxBytes)) rows.add(row);
  }
  return [...rows].sort((a, b) => a - b);
}

function longValues(vector: Vector, maxBytes: number): number[] {
  const out: number[] = [];
  let base = 0;
  for (const data of vector.data) {
    const type = data.type as DataType;
    if (DataType.isDictionary(type)) {
      // A long dictionary entry taints every row that points at it.
      const dictionary = data.dictionary;
      const long = new Set(dictionary ? longValues(dictionary, maxBytes) : []);
      if (long.size > 0)
        for (let i = 0; i < data.length; i++) if (data.getValid(i) && long.has(Number((data.values as ArrayLike<number | bigint>)[i]))) out.push(base + i);
    } else if (DataType.isUtf8(type) || DataType.isLargeUtf8(type) || DataType.isBinary(type)) {
      // Arrow JS slices the offsets buffer with the data, so index i is the slice's own row.
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      for (let i = 0; i < data.length; i++) {
        const length = Number(offsets[i + 1]!) - Number(offsets[i]!);
        if (length > maxBytes && data.getValid(i)) out.push(base + i);
      }
    }
    base += data.length;
  }
  return out;
}
