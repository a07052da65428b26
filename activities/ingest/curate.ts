/**
 * The CPU-heavy part of ingesting one raw file, as a pure function of its bytes: decode, check
 * against the contract, normalise, reject bad rows, de-identify, partition by patient bucket and
 * encode the curated fragments and the rejects as Parquet. No I/O, so it can run on a worker
 * thread (the curator pool) as well as inline.
 */
import { Table, type Table as ArrowTable } from 'apache-arrow';
import { CorruptFileError, SchemaMismatchError } from '../../core/errors.js';
import type { RawTable } from '../../data-lake/layout.js';
import { int32Vector, utf8Vector } from '../io/arrow-columns.js';
import { readParquet, writeParquet } from '../io/parquet.js';
import { CURATED_PARQUET } from '../curated/parquet-format.js';
import { take, toTable } from './columns.js';
import { checkSchema } from './contract.js';
import { rejectDuplicateKeys } from './dedupe.js';
import type { QuarantineReason, RejectReason } from './reasons.js';
import { bucketOf, Pseudonymizer } from './pseudonymizer.js';
import { CORRECTED, type NormalizeContext, type Normalized, REJECTED } from './tables/common.js';
import { normalizeDiagnoses } from './tables/diagnoses.js';
import { normalizeEncounters } from './tables/encounters.js';
import { normalizeLabResults } from './tables/lab-results.js';
import { normalizePatients } from './tables/patients.js';

/** Each table's normaliser: raw rows -> curated columns and row verdicts (also serving's path for raw rows). */
export const NORMALIZERS: Record<RawTable, (table: ArrowTable, ctx: NormalizeContext) => Normalized> = {
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

export type CurateOutcome =
  | { kind: 'quarantine'; reasonType: QuarantineReason; reason: string }
  | ({ kind: 'curated'; fragments: { bucket: number; rows: number; bytes: Uint8Array }[]; rejects: Uint8Array | null } & RowAccounting);

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
  return { kind: 'curated', fragments: encodeFragments(normalized, req.bucketCount), rejects: encodeRejects(normalized, req.fileName), ...account(normalized) };
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

function encodeFragments(n: Normalized, bucketCount: number): { bucket: number; rows: number; bytes: Uint8Array }[] {
  const rowsByBucket = new Map<number, number[]>();
  for (let row = 0; row < n.verdicts.n; row++) {
    const key = n.patientKeys[row];
    if (!n.verdicts.ok(row) || !key) continue;
    const b = bucketOf(key, bucketCount);
    let rows = rowsByBucket.get(b);
    if (!rows) rowsByBucket.set(b, (rows = []));
    rows.push(row);
  }
  return [...rowsByBucket.keys()]
    .sort((a, b) => a - b)
    .map((bucket) => {
      const rows = Uint32Array.from(rowsByBucket.get(bucket)!);
      return { bucket, rows: rows.length, bytes: writeParquet(toTable(n.columns.map((c) => take(c, rows))), CURATED_PARQUET) };
    });
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
