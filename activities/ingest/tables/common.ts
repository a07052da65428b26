/**
 * What every table normaliser shares: the raw column accessor, the row verdicts, and the
 * de-identification columns. A verdict per row: accepted, corrected (accepted after a value was
 * converted to canonical form), or rejected with a reason. Reasons are codes, never values.
 */
import type { Table, Vector } from 'apache-arrow';
import type { RawTable } from '../../../data-lake/layout.js';
import { stringValues } from '../../io/arrow-columns.js';
import { intOrFloatToFloat64, timestampColumnToMillis } from '../../io/parquet.js';
import type { CuratedColumn } from '../columns.js';
import type { Pseudonymizer } from '../pseudonymizer.js';
import type { RejectReason } from '../reasons.js';

export const ACCEPTED = 0;
export const CORRECTED = 1;
export const REJECTED = 2;

export const DAY_MS = 86_400_000;

/** Raw columns by name; an absent (optional) column reads as all null. */
export class RawColumns {
  readonly n: number;
  constructor(private readonly table: Table) {
    this.n = table.numRows;
  }
  private vector(name: string): Vector | null {
    return this.table.getChild(name);
  }
  strings(name: string): (string | null)[] {
    return stringValues(this.vector(name), this.n);
  }
  floats(name: string): Float64Array {
    const v = this.vector(name);
    return v ? intOrFloatToFloat64(v) : new Float64Array(this.n).fill(Number.NaN);
  }
  /** Timestamps and dates of any unit as epoch milliseconds, NaN for null. */
  millis(name: string): Float64Array {
    const v = this.vector(name);
    return v ? timestampColumnToMillis(v) : new Float64Array(this.n).fill(Number.NaN);
  }
}

export class Verdicts {
  readonly status: Uint8Array;
  readonly reasons: (RejectReason | null)[];
  constructor(readonly n: number) {
    this.status = new Uint8Array(n);
    this.reasons = new Array<RejectReason | null>(n).fill(null);
  }
  reject(row: number, reason: RejectReason): void {
    if (this.status[row] === REJECTED) return; // the first reason found is the one reported
    this.status[row] = REJECTED;
    this.reasons[row] = reason;
  }
  /** Rejects the row with this reason whatever was found before (a bound breached before the row was judged). */
  rejectAs(row: number, reason: RejectReason): void {
    this.status[row] = REJECTED;
    this.reasons[row] = reason;
  }
  correct(row: number): void {
    if (this.status[row] === ACCEPTED) this.status[row] = CORRECTED;
  }
  ok(row: number): boolean {
    return this.status[row] !== REJECTED;
  }
}

export interface NormalizeContext {
  source: string;
  ingestDate: string;
  fileName: string;
  pseudonymizer: Pseudonymizer;
}

export interface Normalized {
  table: RawTable;
  /** Curated columns over all input rows; rejected rows are dropped when writing. */
  columns: CuratedColumn[];
  /** The patient pseudonym per row (null where the row is rejected for lack of a patient id). */
  patientKeys: (string | null)[];
  verdicts: Verdicts;
  primaryKey: string[];
}

/** Pseudonyms and date shifts for a patient_id column; rows without an id are rejected. */
export function deidentifyPatients(raw: RawColumns, v: Verdicts, ctx: NormalizeContext) {
  const ids = raw.strings('patient_id');
  const keys = new Array<string | null>(raw.n).fill(null);
  const shiftMs = new Float64Array(raw.n);
  for (let i = 0; i < raw.n; i++) {
    const id = ids[i];
    if (id === null || id === undefined || id.trim() === '') {
      v.reject(i, 'missing_patient_id');
      continue;
    }
    const p = ctx.pseudonymizer.patient(id);
    keys[i] = p.key;
    shiftMs[i] = p.shiftDays * DAY_MS;
  }
  return { keys, shiftMs };
}

/** Pseudonyms for a record-id column; null and blank ids stay null (and are rejected by the caller's rules). */
export function pseudonymIds(ids: (string | null)[], map: (id: string) => string): (string | null)[] {
  return ids.map((id) => (id === null || id.trim() === '' ? null : map(id)));
}

export function requireStrings(values: (string | null)[], v: Verdicts, reason: RejectReason): void {
  for (let i = 0; i < values.length; i++) if (values[i] === null || values[i]!.trim() === '') v.reject(i, reason);
}

export function requireTimes(values: Float64Array, v: Verdicts, reason: RejectReason): void {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i]!)) v.reject(i, reason);
}

/** Rejects values outside `allowed` (nulls allowed when `nullable`); returns values lower-cased. */
export function checkEnum(values: (string | null)[], allowed: ReadonlySet<string>, nullable: boolean, v: Verdicts, reason: RejectReason): (string | null)[] {
  return values.map((value, i) => {
    if (value === null) {
      if (!nullable) v.reject(i, reason);
      return null;
    }
    const norm = value.trim().toLowerCase();
    if (!allowed.has(norm)) v.reject(i, reason);
    return norm;
  });
}

/** No clinical time in the lake is earlier than this (a 1900 date is a placeholder, not a visit). */
export const EARLIEST_PLAUSIBLE_MS = Date.UTC(1900, 0, 1);

/**
 * Rejects times (nulls pass) before 1900. Times are UTC instants and are not judged against the
 * file's ingest date (docs/data-contract.md): a stay may arrive on its admission day with its
 * discharge filled in, an evening discharge in New York is the next day in UTC, and a re-export
 * lands years of history under one date.
 */
export function checkEarliestTime(values: Float64Array, v: Verdicts, reason: RejectReason): void {
  for (let i = 0; i < values.length; i++) if (values[i]! < EARLIEST_PLAUSIBLE_MS) v.reject(i, reason);
}

export function shifted(times: Float64Array, shiftMs: Float64Array): Float64Array {
  const out = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) out[i] = times[i]! + shiftMs[i]!;
  return out;
}

/** The lineage columns every curated table carries: last ingest (then file name) wins. */
export function lineageColumns(n: number, ctx: NormalizeContext): CuratedColumn[] {
  return [
    { name: 'ingest_date', kind: 'string', values: new Array<string | null>(n).fill(ctx.ingestDate) },
    { name: 'source_file', kind: 'string', values: new Array<string | null>(n).fill(ctx.fileName) },
  ];
}

/**
 * ICD-10-CM's shape: a letter, a digit, a digit or letter (the category: `E11`, `C4A`), then up to
 * four characters of digits or letters (`X` is the placeholder), written after a dot or without it.
 */
const ICD10_RE = /^([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?$/;

/**
 * ICD-10-CM without the dot, upper case; null when the code is not well formed (an ICD-9 code
 * such as `250.00`, a dot in the wrong place, stray characters).
 *
 * Only the shape is checked, not membership: a well-formed code that is not in the current
 * ICD-10-CM release is accepted as sent. Shipping and versioning the ~74,000 codes of each annual
 * release (and knowing which release each source used) is out of proportion to what it protects:
 * features read code prefixes (the primary diagnosis's chapter; comorbidity groupings are prefix
 * ranges too), which any well-formed code has.
 */
export function normalizeIcd10(code: string | null): string | null {
  if (code === null) return null;
  const m = ICD10_RE.exec(code.trim().toUpperCase());
  return m ? m[1]! + (m[2] ?? '') : null;
}
