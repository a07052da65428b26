/**
 * What `carepipe lake inspect` shows of one object: its footer (parquet-footer.ts: schema, rows,
 * row groups, per column compression, encodings, sizes and statistics), and, for a quarantined
 * file, the reason ingest recorded beside it. Only the object's tail is read (a ranged GET), and
 * nothing goes through parquet-wasm, so any file, even one that traps the decoder or would decode
 * to gigabytes, can be inspected. Statistics bounds of byte-array columns and of the contract's PHI
 * columns are redacted unless asked for: raw/ and quarantine/ are PHI zones, and a terminal or a
 * pasted report is not.
 */
import { RAW_TABLES } from '../../data-lake/layout.js';
import { contractSchemas, isPhiField } from '../../schemas/raw.js';
import type { ObjectStore } from './object-store.js';
import { type ColumnChunkInfo, footerLength, type ParquetFooter, readFooter, type SchemaNode } from './parquet-footer.js';

/** The tail read first: most footers fit, so one ranged GET usually suffices. */
const TAIL_BYTES = 64 * 1024;

const PHI_COLUMNS = new Set(RAW_TABLES.flatMap((t) => contractSchemas[t].fields.filter(isPhiField).map((f) => f.name)));

export interface ColumnSummary {
  path: string;
  physicalType: string;
  logicalType?: string;
  codecs: string[];
  encodings: string[];
  values: number;
  compressedBytes: number;
  uncompressedBytes: number;
  /** Summed over row groups; absent when a row group does not say. */
  nullCount?: number;
  min?: string | number;
  max?: string | number;
}

export interface InspectResult {
  key: string;
  size: number;
  error?: string;
  quarantine?: { reasonType?: string; reason?: string };
  rows?: number;
  createdBy?: string;
  version?: number;
  rowGroups?: { rows: number; uncompressedBytes: number }[];
  schema?: { path: string; depth: number; physicalType?: string; logicalType?: string; repetition?: string }[];
  columns?: ColumnSummary[];
  keyValueKeys?: string[];
  uncompressedBytes?: number;
}

export interface InspectOptions {
  /** Show statistics bounds of byte-array and PHI columns too. */
  showValues?: boolean;
}

export async function inspectObject(store: ObjectStore, key: string, size: number, options: InspectOptions = {}): Promise<InspectResult> {
  const result: InspectResult = { key, size };
  // Ingest writes a quarantined file's reason beside it; the URI may be rooted anywhere above it.
  if (!key.endsWith('.reason.json')) {
    const reason = await store.head(`${key}.reason.json`);
    if (reason) {
      const body = JSON.parse(new TextDecoder().decode(await store.get(`${key}.reason.json`))) as { reasonType?: string; reason?: string };
      result.quarantine = { ...(body.reasonType ? { reasonType: body.reasonType } : {}), ...(body.reason ? { reason: body.reason } : {}) };
    }
  }
  try {
    let tail = size > 0 ? await store.getRange(key, Math.max(0, size - TAIL_BYTES), size) : new Uint8Array();
    const length = footerLength(tail, size, key);
    if (length + 8 > tail.length) tail = await store.getRange(key, size - length - 8, size);
    return { ...result, ...summarise(readFooter(tail, size, key), options) };
  } catch (err) {
    return { ...result, error: err instanceof Error ? err.message : String(err) };
  }
}

function summarise(footer: ParquetFooter, options: InspectOptions): Partial<InspectResult> {
  const leaves = new Map(footer.schema.filter((n) => n.children === 0 && n.path.length > 0).map((n) => [n.path.join('.'), n]));
  const columns = new Map<string, ColumnSummary>();
  const bounds = new Map<string, { min?: Uint8Array; max?: Uint8Array; nulls: boolean }>();
  for (const group of footer.rowGroups) {
    for (const chunk of group.columns) {
      const path = chunk.path.join('.');
      const leaf = leaves.get(path);
      let c = columns.get(path);
      if (!c) {
        c = {
          path,
          physicalType: chunk.physicalType,
          ...(leaf?.logicalType ? { logicalType: leaf.logicalType } : {}),
          codecs: [],
          encodings: [],
          values: 0,
          compressedBytes: 0,
          uncompressedBytes: 0,
          nullCount: 0,
        };
        columns.set(path, c);
        bounds.set(path, { nulls: true });
      }
      if (!c.codecs.includes(chunk.codec)) c.codecs.push(chunk.codec);
      for (const e of chunk.encodings) if (!c.encodings.includes(e)) c.encodings.push(e);
      c.values += chunk.values;
      c.compressedBytes += chunk.compressedBytes;
      c.uncompressedBytes += chunk.uncompressedBytes;
      c.nullCount = (c.nullCount ?? 0) + (chunk.statistics?.nullCount ?? 0);
      merge(bounds.get(path)!, chunk, leaf);
    }
  }
  for (const [path, c] of columns) {
    const b = bounds.get(path)!;
    if (!b.nulls) delete c.nullCount;
    const redacted =
      !options.showValues &&
      (c.physicalType === 'BYTE_ARRAY' || c.physicalType === 'FIXED_LEN_BYTE_ARRAY' || c.physicalType === 'INT96' || PHI_COLUMNS.has(path.split('.')[0]!));
    for (const side of ['min', 'max'] as const) {
      const raw = b[side];
      if (raw) c[side] = redacted ? `<redacted, ${raw.length} bytes>` : decode(raw, c.physicalType, c.logicalType);
    }
  }
  return {
    rows: footer.rows,
    ...(footer.createdBy !== undefined ? { createdBy: footer.createdBy } : {}),
    version: footer.version,
    rowGroups: footer.rowGroups.map((g) => ({ rows: g.rows, uncompressedBytes: g.uncompressedBytes })),
    schema: footer.schema.map(schemaLine),
    columns: [...columns.values()],
    keyValueKeys: footer.keyValueKeys,
    uncompressedBytes: footer.uncompressedBytes,
  };
}

function schemaLine(n: SchemaNode) {
  return {
    path: n.path.length > 0 ? n.path.join('.') : n.name,
    depth: n.depth,
    ...(n.physicalType ? { physicalType: n.physicalType } : {}),
    ...(n.logicalType ? { logicalType: n.logicalType } : {}),
    ...(n.repetition ? { repetition: n.repetition } : {}),
  };
}

/** Keeps the smallest min and largest max over row groups, compared as decoded numbers or as unsigned bytes. */
function merge(into: { min?: Uint8Array; max?: Uint8Array; nulls: boolean }, chunk: ColumnChunkInfo, leaf: SchemaNode | undefined): void {
  const s = chunk.statistics;
  if (s?.nullCount === undefined) into.nulls = false;
  const cmp = (a: Uint8Array, b: Uint8Array) => {
    const x = decode(a, chunk.physicalType, leaf?.logicalType);
    const y = decode(b, chunk.physicalType, leaf?.logicalType);
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return Buffer.compare(a, b);
  };
  if (s?.min && (!into.min || cmp(s.min, into.min) < 0)) into.min = s.min;
  if (s?.max && (!into.max || cmp(s.max, into.max) > 0)) into.max = s.max;
}

/** A statistics bound as a value: numbers by physical type (DATE as an ISO day), text for STRING, hex otherwise. */
export function decode(raw: Uint8Array, physicalType: string, logicalType: string | undefined): string | number {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (physicalType === 'INT32' && raw.length === 4) {
    const v = view.getInt32(0, true);
    return logicalType === 'DATE' ? new Date(v * 86_400_000).toISOString().slice(0, 10) : v;
  }
  if (physicalType === 'INT64' && raw.length === 8) return Number(view.getBigInt64(0, true));
  if (physicalType === 'FLOAT' && raw.length === 4) return view.getFloat32(0, true);
  if (physicalType === 'DOUBLE' && raw.length === 8) return view.getFloat64(0, true);
  if (physicalType === 'BOOLEAN' && raw.length === 1) return raw[0] ? 'true' : 'false';
  if (logicalType === 'STRING' || logicalType === 'UTF8' || logicalType === 'ENUM' || logicalType === 'JSON') return new TextDecoder().decode(raw);
  return `0x${Buffer.from(raw).toString('hex')}`;
}
