/**
 * The CPU-heavy part of ingesting one raw file, as a pure function of its bytes: decode, check
 * against the contract, normalise, reject bad rows, de-identify, partition by patient bucket and
 * encode the curated fragments and the rejects as Parquet. No I/O, so it can run on a worker
 * thread (the curator pool) as well as inline.
 */
import { createHash } from 'node:crypto';
import { Table, tableFromIPC, tableToIPC, type Table as ArrowTable } from 'apache-arrow';
import { CorruptFileError, SchemaMismatchError } from '../../core/errors.js';
import type { RawTable } from '../../data-lake/layout.js';
import { int32Vector, utf8Vector } from '../io/arrow-columns.js';
import { readParquet, writeParquet } from '../io/parquet.js';
import { type CuratedColumn, take, toTable } from './columns.js';
import { checkSchema } from './contract.js';
import { rejectDuplicateKeys } from './dedupe.js';
import type { QuarantineReason, RejectReason } from './reasons.js';
import { bucketOf, Pseudonymizer } from './pseudonymizer.js';
import { CORRECTED, type NormalizeContext, type Normalized, REJECTED } from './tables/common.js';
import { normalizeDiagnoses } from './tables/diagnoses.js';
import { normalizeEncounters } from './tables/encounters.js';
import { normalizeLabResults } from './tables/lab-results.js';
import { normalizePatients } from './tables/patients.js';

const NORMALIZERS: Record<RawTable, (table: ArrowTable, ctx: NormalizeContext) => Normalized> = {
  patients: normalizePatients,
  encounters: normalizeEncounters,
  diagnoses: normalizeDiagnoses,
  lab_results: normalizeLabResults,
};

export interface CurateRequest {
  bytes: Uint8Array;
  /** The raw key, for messages. */
  source: string;
  table: RawTable;
  ingestDate: string;
  fileName: string;
  bucketCount: number;
  pseudonymKey: { id: string; secret: Uint8Array };
}

export interface RowAccounting {
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  rejectReasons: Partial<Record<RejectReason, number>>;
}

/** Runs curateFile somewhere: inline by default, on a worker-thread pool in workers. */
export type Curator = (req: CurateRequest) => Promise<CurateOutcome>;

/** A bucket's rows in a curated file's `rows`: [start, start + rows), and their SHA-256 (what identifies them to compaction). */
export interface BucketRows {
  bucket: number;
  start: number;
  rows: number;
  sha256: string;
}

export type CurateOutcome =
  | { kind: 'quarantine'; reasonType: QuarantineReason; reason: string }
  | ({
      kind: 'curated';
      /**
       * The accepted rows as an Arrow IPC stream, grouped by bucket (in `buckets`' order) and in
       * the file's order within a bucket. Not Parquet: the ingest activity gathers a batch's files
       * into one fragment per bucket and encodes that once (encoding every file's rows of every
       * bucket, decoding them and encoding the batch again was most of ingest's CPU time).
       */
      rows: Uint8Array;
      buckets: BucketRows[];
      rejects: Uint8Array | null;
    } & RowAccounting);

/** A curated outcome's rows of the `i`th of its buckets, as an Arrow table. */
export function bucketTable(outcome: Extract<CurateOutcome, { kind: 'curated' }>, i: number): ArrowTable {
  const b = outcome.buckets[i]!;
  return tableFromIPC(outcome.rows).slice(b.start, b.start + b.rows);
}

export function curateFile(req: CurateRequest): CurateOutcome {
  const pseudonymizer = new Pseudonymizer({
    activeId: req.pseudonymKey.id,
    keys: new Map([[req.pseudonymKey.id, Buffer.from(req.pseudonymKey.secret)]]),
    source: 'curate request',
  });
  let normalized: Normalized;
  try {
    const table = readParquet(req.bytes, { source: req.source });
    checkSchema(req.table, table.schema.fields, req.source);
    normalized = NORMALIZERS[req.table](table, { source: req.source, ingestDate: req.ingestDate, fileName: req.fileName, pseudonymizer });
  } catch (err) {
    if (err instanceof CorruptFileError) return { kind: 'quarantine', reasonType: 'CorruptFileError', reason: err.message };
    if (err instanceof SchemaMismatchError) return { kind: 'quarantine', reasonType: 'SchemaMismatchError', reason: err.message };
    throw err;
  }
  rejectDuplicateKeys(normalized);
  return { kind: 'curated', ...groupByBucket(normalized, req.bucketCount), rejects: encodeRejects(normalized, req.fileName), ...account(normalized) };
}

function account(n: Normalized): RowAccounting {
  const { status, reasons } = n.verdicts;
  const rejectReasons: Partial<Record<RejectReason, number>> = {};
  let rejected = 0;
  let corrected = 0;
  for (let i = 0; i < status.length; i++) {
    if (status[i] === REJECTED) {
      rejected++;
      rejectReasons[reasons[i]!] = (rejectReasons[reasons[i]!] ?? 0) + 1;
    } else if (status[i] === CORRECTED) corrected++;
  }
  return { rowsIn: status.length, accepted: status.length - rejected - corrected, corrected, rejected, rejectReasons };
}

/**
 * The SHA-256 of rows [start, end) of the columns: names, kinds and values, unambiguously (strings
 * as JSON, numbers as their bytes). A function of the rows alone, whichever batch they travel in.
 */
function hashRows(columns: readonly CuratedColumn[], start: number, end: number): string {
  const h = createHash('sha256');
  for (const c of columns) {
    h.update(`${c.name}\0${c.kind}\0`);
    if (c.kind === 'string') h.update(JSON.stringify(c.values.slice(start, end)));
    else h.update(new Uint8Array(c.values.buffer, c.values.byteOffset + start * c.values.BYTES_PER_ELEMENT, (end - start) * c.values.BYTES_PER_ELEMENT));
  }
  return h.digest('hex');
}

function groupByBucket(n: Normalized, bucketCount: number): { rows: Uint8Array; buckets: BucketRows[] } {
  const rowsByBucket = new Map<number, number[]>();
  for (let row = 0; row < n.verdicts.n; row++) {
    const key = n.patientKeys[row];
    if (!n.verdicts.ok(row) || !key) continue;
    const b = bucketOf(key, bucketCount);
    let rows = rowsByBucket.get(b);
    if (!rows) rowsByBucket.set(b, (rows = []));
    rows.push(row);
  }
  const order: number[] = [];
  const buckets: BucketRows[] = [];
  for (const bucket of [...rowsByBucket.keys()].sort((a, b) => a - b)) {
    const rows = rowsByBucket.get(bucket)!;
    buckets.push({ bucket, start: order.length, rows: rows.length, sha256: '' });
    for (const r of rows) order.push(r);
  }
  const columns = n.columns.map((c) => take(c, Uint32Array.from(order)));
  for (const b of buckets) b.sha256 = hashRows(columns, b.start, b.start + b.rows);
  return { rows: tableToIPC(toTable(columns), 'stream'), buckets };
}

/** Rejected rows by row number, reason code and pseudonym: never the raw values, which may be PHI. */
function encodeRejects(n: Normalized, fileName: string): Uint8Array | null {
  const rows: number[] = [];
  for (let i = 0; i < n.verdicts.n; i++) if (n.verdicts.status[i] === REJECTED) rows.push(i);
  if (rows.length === 0) return null;
  return writeParquet(
    new Table({
      source_file: utf8Vector(rows.map(() => fileName)),
      row_index: int32Vector(Int32Array.from(rows)),
      reason: utf8Vector(rows.map((r) => n.verdicts.reasons[r] ?? null)),
      patient_key: utf8Vector(rows.map((r) => n.patientKeys[r] ?? null)),
    }),
  );
}
