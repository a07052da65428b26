/**
 * Raw rows in the data contract's shape -> the model's input features, through the batch path's
 * own code: the contract's Arrow schemas (schemas/raw.ts), ingest's table normalisers (validation,
 * unit conversion, de-identification with the lake's pseudonym key: curate.ts NORMALIZERS) and
 * in-file duplicate rule, the feature build's deduplication (read-bucket.ts) and the readmission
 * features (readmission.ts). Nothing is re-implemented here but the JSON -> Arrow step.
 *
 * A stay is `{ encounter_id, as_of?, patients, encounters, diagnoses?, lab_results? }`: the
 * patient's rows, the stay and the prior year's encounters, their diagnoses and labs. Rows of a
 * table are in the order they were sent (a later row with the same key corrects an earlier one, as
 * a later file does in the lake). `as_of` (YYYY-MM-DD, default today, UTC) is the ingest date the
 * rows are curated as of: de-identification reports the age of anyone over 89 on that date as 90.
 * Rows ingest would reject are dropped as ingest drops them; the stay's own encounter being
 * rejected, or not being an index stay, is a 400. No value of a row is ever in an error or a log.
 */
import { DataType, type Field, Table, type Vector } from 'apache-arrow';
import type { FeatureColumns, FeatureValues } from '../activities/features/pipeline.js';
import { dedupeTable, EMPTY_BUCKET_TABLE } from '../activities/features/read-bucket.js';
import { buildReadmissionFeatures } from '../activities/features/readmission.js';
import { NORMALIZERS } from '../activities/ingest/curate.js';
import { rejectDuplicateKeys } from '../activities/ingest/dedupe.js';
import { Pseudonymizer } from '../activities/ingest/pseudonymizer.js';
import { take, toTable } from '../activities/ingest/columns.js';
import { NULL_DAY, date32Vector, float64Vector, int32Vector, timestampMsVector, utf8Vector } from '../activities/io/arrow-columns.js';
import type { KeyRing } from '../core/config.js';
import { RAW_TABLES, type RawTable } from '../data-lake/layout.js';
import { contractSchemas } from '../schemas/raw.js';
import { badInput } from './problem.js';

export type RawRow = Record<string, unknown>;
export interface RawStay {
  encounter_id: string;
  as_of?: string;
  patients: RawRow[];
  encounters: RawRow[];
  diagnoses?: RawRow[];
  lab_results?: RawRow[];
}

const DAY_MS = 86_400_000;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** An instant: a date and time with a zone (Z or an offset); a time without one would be read in the server's zone. */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

export class RawStayFeaturizer {
  private readonly pseudonymizer: Pseudonymizer;
  constructor(ring: KeyRing) {
    this.pseudonymizer = new Pseudonymizer(ring);
  }

  /** One row of feature columns per stay, in order. `pointer(i)` is the JSON pointer of stay i. */
  features(stays: readonly RawStay[], names: readonly string[], pointer: (i: number) => string, today = new Date()): FeatureColumns {
    const perStay = stays.map((stay, i) => this.stayFeatures(stay, pointer(i), today));
    const columns = new Map<string, FeatureValues>();
    for (const name of names) {
      const first = perStay[0]?.get(name);
      if (first instanceof Float64Array || first === undefined)
        columns.set(
          name,
          Float64Array.from(perStay, (f) => (f.get(name) as Float64Array | undefined)?.[0] ?? Number.NaN),
        );
      else
        columns.set(
          name,
          perStay.map((f) => (f.get(name) as (string | null)[])[0] ?? null),
        );
    }
    return columns;
  }

  private stayFeatures(stay: RawStay, at: string, today: Date): Map<string, FeatureValues> {
    if (typeof stay.encounter_id !== 'string' || stay.encounter_id.trim() === '')
      throw badInput(`${at}/encounter_id`, 'missing-field', 'the stay to score must be named');
    const asOf = stay.as_of ?? today.toISOString().slice(0, 10);
    if (typeof asOf !== 'string' || !DATE_RE.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`))) {
      throw badInput(`${at}/as_of`, 'wrong-type', 'must be a date, YYYY-MM-DD');
    }
    const curated = {} as Record<RawTable, ReturnType<typeof dedupeTable>>;
    let stayReject: string | null = null;
    const stayKey = this.pseudonymizer.encounterId(stay.encounter_id);
    for (const table of RAW_TABLES) {
      const rows = stay[table] ?? [];
      if (!Array.isArray(rows)) throw badInput(`${at}/${table}`, 'wrong-type', 'must be an array of rows');
      if (rows.length === 0) {
        curated[table] = EMPTY_BUCKET_TABLE;
        continue;
      }
      const arrow = toArrow(table, rows, `${at}/${table}`);
      const normalized = NORMALIZERS[table](arrow, { source: 'request', ingestDate: asOf, fileName: 'request', pseudonymizer: this.pseudonymizer });
      rejectDuplicateKeys(normalized);
      const ok = Uint32Array.from(normalized.verdicts.status.keys()).filter((r) => normalized.verdicts.ok(r) && !!normalized.patientKeys[r]);
      if (table === 'encounters') {
        const ids = normalized.columns.find((c) => c.name === 'encounter_id')!.values as (string | null)[];
        for (let r = 0; r < ids.length; r++) if (ids[r] === stayKey && !normalized.verdicts.ok(r)) stayReject = normalized.verdicts.reasons[r] ?? null;
        if (ok.some((r) => ids[r] === stayKey)) stayReject = null; // a later accepted row of the stay wins
      }
      curated[table] = dedupeTable(table, [toTable(normalized.columns.map((c) => take(c, ok)))]);
    }
    if (stayReject) throw badInput(`${at}/encounters`, 'rejected-row', `the stay's encounter is rejected by ingest (${stayReject})`);
    const frame = buildReadmissionFeatures(
      { patients: curated.patients, encounters: curated.encounters, diagnoses: curated.diagnoses, labs: curated.lab_results },
      { dataEndMs: Number.NaN },
    );
    const idColumn = frame.columns.find((c) => c.name === 'encounter_id')!.values as (string | null)[];
    const row = idColumn.indexOf(stayKey);
    if (row < 0) {
      throw badInput(
        `${at}/encounter_id`,
        'not-an-index-stay',
        'no index stay with this id among the rows sent: an inpatient encounter with a discharge, not expired, and its patient row',
      );
    }
    const out = new Map<string, FeatureValues>();
    for (const c of frame.columns) {
      if (c.kind === 'string') out.set(c.name, [c.values[row] ?? null]);
      else if (c.kind === 'float' || c.kind === 'timestamp') out.set(c.name, Float64Array.of(c.values[row]!));
      else out.set(c.name, Float64Array.of(c.values[row] === NULL_DAY ? Number.NaN : c.values[row]!));
    }
    return out;
  }
}

/** JSON rows -> an Arrow table of the contract's schema for `table`; a 400 names the first bad field. */
export function toArrow(table: RawTable, rows: readonly unknown[], at: string): Table {
  const fields = contractSchemas[table].fields;
  const known = new Set(fields.map((f) => f.name));
  rows.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw badInput(`${at}/${i}`, 'wrong-type', 'must be an object (one row)');
    for (const name of Object.keys(row))
      if (!known.has(name))
        throw badInput(`${at}/${i}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, 'unknown-field', `the contract's ${table} table has no such column`);
  });
  const objects = rows as RawRow[];
  return new Table(Object.fromEntries(fields.map((f) => [f.name, vectorOf(f, objects, at)])));
}

function vectorOf(field: Field, rows: RawRow[], at: string): Vector {
  const type = field.type as DataType;
  const field_ = (i: number) => `${at}/${i}/${field.name}`;
  const values = rows.map((r) => r[field.name]);
  if (DataType.isUtf8(type)) {
    return utf8Vector(values.map((v, i) => (v === undefined || v === null ? null : typeof v === 'string' ? v : fail(field_(i), 'must be a string or null'))));
  }
  if (DataType.isFloat(type)) {
    return float64Vector(
      Float64Array.from(values, (v, i) => (v === undefined || v === null ? Number.NaN : isFiniteNumber(v) ? v : fail(field_(i), 'must be a number or null'))),
    );
  }
  if (DataType.isInt(type)) {
    const valid = new Uint8Array(values.length);
    const out = Int32Array.from(values, (v, i) => {
      if (v === undefined || v === null) return 0;
      if (!isFiniteNumber(v) || !Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) return fail(field_(i), 'must be an integer or null');
      valid[i] = 1;
      return v;
    });
    return int32Vector(out, valid);
  }
  if (DataType.isTimestamp(type)) {
    return timestampMsVector(Float64Array.from(values, (v, i) => (v === undefined || v === null ? Number.NaN : instantMs(v, field_(i)))));
  }
  if (DataType.isDate(type)) {
    return date32Vector(
      Int32Array.from(values, (v, i) => {
        if (v === undefined || v === null) return NULL_DAY;
        const ms = typeof v === 'string' && DATE_RE.test(v) ? Date.parse(`${v}T00:00:00Z`) : Number.NaN;
        return Number.isNaN(ms) ? fail(field_(i), 'must be a date, YYYY-MM-DD, or null') : Math.floor(ms / DAY_MS);
      }),
    );
  }
  throw new Error(`serving: no JSON reading for the contract type of ${field.name}`);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function instantMs(v: unknown, at: string): number {
  if (isFiniteNumber(v)) return v;
  const ms = typeof v === 'string' && INSTANT_RE.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? fail(at, 'must be epoch milliseconds or an ISO 8601 instant with a zone (Z or +hh:mm), or null') : ms;
}

function fail(at: string, detail: string): never {
  throw badInput(at, 'wrong-type', detail);
}
