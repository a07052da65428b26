/**
 * A Parquet file's footer (FileMetaData) read in plain JavaScript (thrift-compact.ts): schema,
 * rows, row groups, and per column chunk its compression, encodings, sizes and statistics. Used
 * before decoding (ingest's decoded-size cap: a few KB of footer say how big the columns become)
 * and by `carepipe lake inspect`. Only the footer is read: `footerLength` and `readFooter` work on
 * the file's tail, so a store reads a few KB of a large object, not all of it.
 */
import { CorruptFileError } from '../../core/errors.js';
import { CompactReader, type ThriftStruct, type ThriftValue } from './thrift-compact.js';

export const PHYSICAL_TYPES = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'] as const;
export const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'] as const;
export const ENCODINGS = [
  'PLAIN',
  'GROUP_VAR_INT',
  'PLAIN_DICTIONARY',
  'RLE',
  'BIT_PACKED',
  'DELTA_BINARY_PACKED',
  'DELTA_LENGTH_BYTE_ARRAY',
  'DELTA_BYTE_ARRAY',
  'RLE_DICTIONARY',
  'BYTE_STREAM_SPLIT',
] as const;
const REPETITIONS = ['REQUIRED', 'OPTIONAL', 'REPEATED'] as const;
const CONVERTED = ['UTF8', 'MAP', 'MAP_KEY_VALUE', 'LIST', 'ENUM', 'DECIMAL', 'DATE', 'TIME_MILLIS', 'TIME_MICROS', 'TIMESTAMP_MILLIS', 'TIMESTAMP_MICROS'];
const LOGICAL = [
  '',
  'STRING',
  'MAP',
  'LIST',
  'ENUM',
  'DECIMAL',
  'DATE',
  'TIME',
  'TIMESTAMP',
  '',
  'INTEGER',
  'UNKNOWN',
  'JSON',
  'BSON',
  'UUID',
  'FLOAT16',
  'VARIANT',
  'GEOMETRY',
  'GEOGRAPHY',
];

export interface SchemaNode {
  name: string;
  /** Dotted path from the root (the root itself is not in it). */
  path: string[];
  depth: number;
  physicalType?: string;
  repetition?: string;
  /** The logical type's name, else the legacy converted type's, else none. */
  logicalType?: string;
  children: number;
}

export interface ColumnStatistics {
  nullCount?: number;
  distinctCount?: number;
  /** Raw encoded bounds, decoded by the reader that knows the column's type. */
  min?: Uint8Array;
  max?: Uint8Array;
}

export interface ColumnChunkInfo {
  path: string[];
  physicalType: string;
  codec: string;
  encodings: string[];
  values: number;
  compressedBytes: number;
  uncompressedBytes: number;
  statistics?: ColumnStatistics;
}

export interface ParquetFooter {
  version: number;
  rows: number;
  createdBy?: string;
  schema: SchemaNode[];
  rowGroups: { rows: number; uncompressedBytes: number; columns: ColumnChunkInfo[] }[];
  keyValueKeys: string[];
  /** The sum of every column chunk's uncompressed size: about what decoding holds in memory. */
  uncompressedBytes: number;
  footerBytes: number;
}

const EMPTY: ThriftStruct = new Map<number, ThriftValue>();
const text = (v: ThriftValue | undefined): string | undefined => (v instanceof Uint8Array ? new TextDecoder().decode(v) : undefined);
const num = (v: ThriftValue | undefined): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);
const struct = (v: ThriftValue | undefined): ThriftStruct | undefined => (v instanceof Map ? (v as ThriftStruct) : undefined);
const list = (v: ThriftValue | undefined): ThriftValue[] => (Array.isArray(v) ? v : []);
const named = (names: readonly string[], v: ThriftValue | undefined): string => names[num(v)] ?? `unknown(${num(v)})`;

/** The footer's length from the file's last 8 bytes (length + magic). */
export function footerLength(tail: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 12) throw new CorruptFileError(`parquet: ${source} is ${fileSize} bytes, too short to be Parquet`);
  const magic = String.fromCharCode(...tail.subarray(tail.length - 4));
  if (magic === 'PARE') throw new CorruptFileError(`parquet: ${source} has an encrypted footer (Parquet modular encryption), which carepipe does not read`);
  if (magic !== 'PAR1') throw new CorruptFileError(`parquet: ${source} is not Parquet (no PAR1 magic at its end)`);
  const length = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
  if (length + 12 > fileSize) throw new CorruptFileError(`parquet: ${source} claims a ${length}-byte footer in a ${fileSize}-byte file`);
  return length;
}

/** Parses the footer from a buffer that ends with the file's end (the whole file, or at least its footer and last 8 bytes). */
export function readFooter(tail: Uint8Array, fileSize: number, source: string): ParquetFooter {
  const length = footerLength(tail, fileSize, source);
  if (tail.length < length + 8) throw new CorruptFileError(`parquet: the footer of ${source} is ${length} bytes, only ${tail.length - 8} given`);
  const meta = new CompactReader(tail.subarray(tail.length - 8 - length, tail.length - 8), source).struct();
  const schema = schemaNodes(list(meta.get(2)));
  const rowGroups = list(meta.get(4)).map((rg) => {
    const g = struct(rg) ?? EMPTY;
    const columns = list(g.get(1)).map((cc) => columnChunk(struct(struct(cc)?.get(3)) ?? EMPTY));
    return { rows: num(g.get(3)), uncompressedBytes: num(g.get(2)), columns };
  });
  const createdBy = text(meta.get(6));
  return {
    version: num(meta.get(1)),
    rows: num(meta.get(3)),
    ...(createdBy !== undefined ? { createdBy } : {}),
    schema,
    rowGroups,
    keyValueKeys: list(meta.get(5)).map((kv) => text(struct(kv)?.get(1)) ?? ''),
    uncompressedBytes: rowGroups.reduce((sum, g) => sum + g.columns.reduce((s, c) => s + c.uncompressedBytes, 0), 0),
    footerBytes: length,
  };
}

function schemaNodes(elements: ThriftValue[]): SchemaNode[] {
  const nodes: SchemaNode[] = [];
  // A stack of [path, children left]: the schema is a depth-first list with child counts.
  const stack: { path: string[]; left: number }[] = [];
  elements.forEach((e, i) => {
    const s = struct(e) ?? EMPTY;
    const name = text(s.get(4)) ?? '';
    const children = num(s.get(5));
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent) parent.left--;
    const path = i === 0 ? [] : [...(parent?.path ?? []), name];
    const logical = struct(s.get(10));
    const logicalId = logical ? [...logical.keys()][0] : undefined;
    const logicalType = logicalId !== undefined ? LOGICAL[logicalId] || `unknown(${logicalId})` : s.has(6) ? named(CONVERTED, s.get(6)) : undefined;
    nodes.push({
      name,
      path,
      depth: stack.length,
      ...(s.has(1) ? { physicalType: named(PHYSICAL_TYPES, s.get(1)) } : {}),
      ...(s.has(3) ? { repetition: named(REPETITIONS, s.get(3)) } : {}),
      ...(logicalType ? { logicalType } : {}),
      children,
    });
    if (children > 0) stack.push({ path, left: children });
  });
  return nodes;
}

function columnChunk(m: ThriftStruct): ColumnChunkInfo {
  const stats = struct(m.get(12));
  const bytes = (v: ThriftValue | undefined) => (v instanceof Uint8Array ? v : undefined);
  let statistics: ColumnStatistics | undefined;
  if (stats) {
    // min_value/max_value (5, 6) are the correctly ordered ones; min/max (2, 1) the deprecated signed ones.
    const min = bytes(stats.get(6)) ?? bytes(stats.get(2));
    const max = bytes(stats.get(5)) ?? bytes(stats.get(1));
    statistics = {
      ...(stats.has(3) ? { nullCount: num(stats.get(3)) } : {}),
      ...(stats.has(4) ? { distinctCount: num(stats.get(4)) } : {}),
      ...(min ? { min } : {}),
      ...(max ? { max } : {}),
    };
  }
  return {
    path: list(m.get(3)).map((p) => text(p) ?? ''),
    physicalType: named(PHYSICAL_TYPES, m.get(1)),
    codec: named(CODECS, m.get(4)),
    encodings: list(m.get(2)).map((e) => named(ENCODINGS, e)),
    values: num(m.get(5)),
    uncompressedBytes: num(m.get(6)),
    compressedBytes: num(m.get(7)),
    ...(statistics ? { statistics } : {}),
  };
}
