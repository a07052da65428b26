/**
 * One bucket's deduplicated curated tables as typed arrays, grouped by patient: encounters sorted
 * by (patient, admission, id) with per-patient offsets, each encounter's comorbidity mask, and the
 * usable lab results sorted by (patient, time, id). Patients are numbered in key order, so the
 * build's output order does not depend on the order fragments were read in. The decoders are paced
 * computations (context.ts): a bare `yield` every few thousand rows is where a feature build in an
 * activity may pause.
 */
import { isPausePoint, type Paced } from '../context.js';
import { stringValues } from '../io/arrow-columns.js';
import { intOrFloatToFloat64, timestampColumnToMillis } from '../io/parquet.js';
import { charlsonMask } from './charlson.js';
import type { BucketTable } from './read-bucket.js';
import { FEATURE_LABS } from './schema.js';
import { compareRows, dictionaryCodes, utf8Column } from './utf8.js';

export const DAY_MS = 86_400_000;
export const CLASS_INPATIENT = 0;
export const CLASS_EMERGENCY = 1;
const CLASS_CODES: Readonly<Record<string, number>> = { inpatient: 0, emergency: 1, outpatient: 2, ambulatory: 3 };
const CLASS_OTHER = 255;

export interface BucketInputs {
  patients: BucketTable;
  encounters: BucketTable;
  diagnoses: BucketTable;
  labs: BucketTable;
}

const strings = (t: BucketTable, name: string) => (t.table ? stringValues(t.table.getChild(name), t.table.numRows) : []);
const millis = (t: BucketTable, name: string) => {
  const v = t.table?.getChild(name);
  return v ? timestampColumnToMillis(v, name) : new Float64Array(t.table?.numRows ?? 0).fill(Number.NaN);
};

/** Epoch days of YYYY-MM-DD strings, each distinct string parsed once; -1 where absent. */
function epochDays(values: (string | null)[]): Int32Array {
  const cache = new Map<string, number>();
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = values[i];
    if (s === null || s === undefined) {
      out[i] = -1;
      continue;
    }
    let day = cache.get(s);
    if (day === undefined) {
      const ms = Date.parse(`${s}T00:00:00Z`);
      cache.set(s, (day = Number.isNaN(ms) ? -1 : Math.floor(ms / DAY_MS)));
    }
    out[i] = day;
  }
  return out;
}

export interface Encounters {
  n: number;
  patientKeys: string[];
  /** Encounters of patient p are [start[p], start[p + 1]). */
  start: Int32Array;
  id: string[];
  admit: Float64Array;
  discharge: Float64Array;
  cls: Uint8Array;
  disposition: (string | null)[];
  payer: (string | null)[];
  primaryDx: (string | null)[];
  /**
   * Epoch day from which the lake held the encounter with its final discharge time and that
   * discharge was past: the earliest row carrying it, at its ingest date plus its
   * `discharge_lag_days` (a file may carry a discharge later than its own date); -1 when unknown.
   */
  closedArrivalDay: Int32Array;
  /** Charlson categories of the encounter's codes (its diagnoses and its primary diagnosis). */
  comorbidity: Int32Array;
}

/** Encounter winners, regrouped by patient; superseded rows only date the final discharge's arrival. */
export function* decodeEncounters(t: BucketTable): Paced<Encounters> {
  const patientCol = strings(t, 'patient_key');
  const idCol = strings(t, 'encounter_id');
  const admitCol = millis(t, 'admit_time');
  const dischargeCol = millis(t, 'discharge_time');
  const classCol = strings(t, 'encounter_class');
  const ingestDay = epochDays(strings(t, 'ingest_date'));
  const lagCol = t.table?.getChild('discharge_lag_days');
  const dischargeLag = lagCol ? intOrFloatToFloat64(lagCol) : new Float64Array(t.table?.numRows ?? 0);
  const keys = [...new Set(Array.from(t.rows, (r) => patientCol[r]).filter((k): k is string => !!k))].sort();
  const pidOf = new Map(keys.map((k, i) => [k, i]));
  const winners = Array.from(t.rows).filter((r) => pidOf.has(patientCol[r] ?? '') && !Number.isNaN(admitCol[r]!));
  const pidCol = new Int32Array(t.table?.numRows ?? 0);
  for (const r of winners) pidCol[r] = pidOf.get(patientCol[r]!)!;
  const order = Uint32Array.from(winners).sort(
    (a, b) => pidCol[a]! - pidCol[b]! || admitCol[a]! - admitCol[b]! || compareStrings(idCol[a] ?? '', idCol[b] ?? ''),
  );
  const n = order.length;
  const start = new Int32Array(keys.length + 1);
  for (const r of order) start[pidCol[r]! + 1]!++;
  for (let p = 0; p < keys.length; p++) start[p + 1]! += start[p]!;
  const gather = <T>(col: T[]) => Array.from(order, (r) => col[r]!);
  const enc: Encounters = {
    n,
    patientKeys: keys,
    start,
    id: gather(idCol).map((x) => x ?? ''),
    admit: Float64Array.from(order, (r) => admitCol[r]!),
    discharge: Float64Array.from(order, (r) => dischargeCol[r]!),
    cls: Uint8Array.from(order, (r) => CLASS_CODES[classCol[r] ?? ''] ?? CLASS_OTHER),
    disposition: gather(strings(t, 'discharge_disposition')),
    payer: gather(strings(t, 'payer')),
    primaryDx: gather(strings(t, 'primary_dx')),
    closedArrivalDay: new Int32Array(n).fill(-1),
    comorbidity: new Int32Array(n),
  };
  yield;
  const posOf = new Map(enc.id.map((id, i) => [id, i]));
  for (let r = 0; r < dischargeCol.length; r++) {
    if (isPausePoint(r)) yield;
    const pos = posOf.get(idCol[r] ?? '');
    if (pos === undefined || Number.isNaN(dischargeCol[r]!) || dischargeCol[r] !== enc.discharge[pos] || ingestDay[r]! < 0) continue;
    const known = ingestDay[r]! + dischargeLag[r]!;
    const seen = enc.closedArrivalDay[pos]!;
    if (seen < 0 || known < seen) enc.closedArrivalDay[pos] = known;
  }
  return enc;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ORs the Charlson mask of every diagnosis (and primary diagnosis) into its encounter's. */
export function* addComorbidity(enc: Encounters, dx: BucketTable): Paced<void> {
  const masks = new Map<string, number>();
  const maskOf = (code: string) => {
    let m = masks.get(code);
    if (m === undefined) masks.set(code, (m = charlsonMask(code)));
    return m;
  };
  for (let i = 0; i < enc.n; i++) {
    const code = enc.primaryDx[i];
    if (code) enc.comorbidity[i]! |= maskOf(code);
  }
  const posOf = new Map(enc.id.map((id, i) => [id, i]));
  const dxEnc = strings(dx, 'encounter_id');
  const dxCode = strings(dx, 'icd10');
  for (let k = 0; k < dx.rows.length; k++) {
    if (isPausePoint(k)) yield;
    const r = dx.rows[k]!;
    const pos = posOf.get(dxEnc[r] ?? '');
    const code = dxCode[r];
    if (pos !== undefined && code) enc.comorbidity[pos]! |= maskOf(code);
  }
}

export interface Patients {
  /** Epoch day of the (shifted) birth date; NaN when unknown. */
  birthDay: Float64Array;
  sex: (string | null)[];
  race: (string | null)[];
  ethnicity: (string | null)[];
}

/** Demographics of the encounters' patients, in patient order; absent patients read as null. */
export function decodePatients(t: BucketTable, patientKeys: readonly string[]): Patients {
  const n = patientKeys.length;
  const out: Patients = {
    birthDay: new Float64Array(n).fill(Number.NaN),
    sex: new Array<string | null>(n).fill(null),
    race: new Array<string | null>(n).fill(null),
    ethnicity: new Array<string | null>(n).fill(null),
  };
  const pidOf = new Map(patientKeys.map((k, i) => [k, i]));
  const key = strings(t, 'patient_key');
  const birth = millis(t, 'birth_date');
  const sex = strings(t, 'sex');
  const race = strings(t, 'race');
  const ethnicity = strings(t, 'ethnicity');
  for (const r of t.rows) {
    const p = pidOf.get(key[r] ?? '');
    if (p === undefined) continue;
    out.birthDay[p] = Number.isNaN(birth[r]!) ? Number.NaN : Math.floor(birth[r]! / DAY_MS);
    out.sex[p] = sex[r] ?? null;
    out.race[p] = race[r] ?? null;
    out.ethnicity[p] = ethnicity[r] ?? null;
  }
  return out;
}

export interface Labs {
  /** Results of patient p are [start[p], start[p + 1]), by time (then lab id). */
  start: Int32Array;
  time: Float64Array;
  value: Float64Array;
  /** Index into FEATURE_LABS. */
  lab: Uint8Array;
  /** Winning rows read (the work done, for throughput). */
  rowsRead: number;
}

const LAB_INDEX = new Map(FEATURE_LABS.map((l, i) => [l.loinc, i]));
const LAB_UNIT = FEATURE_LABS.map((l) => l.unit.toLowerCase());

/** Per dictionary value, the patient number (-1 when the patient has no encounter). */
function patientOfCode(values: readonly string[], patientKeys: readonly string[]): Int32Array {
  const pidOf = new Map(patientKeys.map((k, i) => [k, i]));
  return Int32Array.from(values, (v) => pidOf.get(v) ?? -1);
}

/**
 * Lab winners of the catalogue's codes with a value in the canonical unit, grouped by patient.
 * A result without a value, or (never, after ingest) in another unit, is not a measurement.
 * Strings are compared as dictionary codes and bytes (utf8.ts): no string per row.
 */
export function* decodeLabs(t: BucketTable, patientKeys: readonly string[]): Paced<Labs> {
  const empty = {
    start: new Int32Array(patientKeys.length + 1),
    time: new Float64Array(0),
    value: new Float64Array(0),
    lab: new Uint8Array(0),
    rowsRead: t.rows.length,
  };
  if (!t.table) return empty;
  const table = t.table;
  const patient = dictionaryCodes(utf8Column(table, 'patient_key'));
  const pidOfCode = patientOfCode(patient.values, patientKeys);
  const loinc = dictionaryCodes(utf8Column(table, 'loinc'));
  const labOfCode = Int32Array.from(loinc.values, (v) => LAB_INDEX.get(v) ?? -1);
  const unit = dictionaryCodes(utf8Column(table, 'unit'));
  const unitOfCode = unit.values.map((v) => v.toLowerCase());
  const labId = utf8Column(table, 'lab_id');
  const timeCol = millis(t, 'observed_at');
  const valueVec = table.getChild('value');
  const valueCol = valueVec ? intOrFloatToFloat64(valueVec, 'value') : new Float64Array(table.numRows).fill(Number.NaN);
  yield;
  const keep = new Uint32Array(t.rows.length);
  let kept = 0;
  const pidRow = new Int32Array(table.numRows);
  const labRow = new Uint8Array(table.numRows);
  for (let k = 0; k < t.rows.length; k++) {
    if (isPausePoint(k)) yield;
    const r = t.rows[k]!;
    const pc = patient.codes[r]!;
    const lc = loinc.codes[r]!;
    const uc = unit.codes[r]!;
    if (pc < 0 || lc < 0 || uc < 0) continue;
    const p = pidOfCode[pc]!;
    const l = labOfCode[lc]!;
    if (p < 0 || l < 0 || !Number.isFinite(valueCol[r]!) || Number.isNaN(timeCol[r]!) || unitOfCode[uc] !== LAB_UNIT[l]) continue;
    pidRow[r] = p;
    labRow[r] = l;
    keep[kept++] = r;
  }
  // Counting sort by patient, then each patient's results by (time, lab id).
  const start = new Int32Array(patientKeys.length + 1);
  for (let k = 0; k < kept; k++) start[pidRow[keep[k]!]! + 1]!++;
  for (let p = 0; p < patientKeys.length; p++) start[p + 1]! += start[p]!;
  const fill = start.slice(0, patientKeys.length);
  const order = new Uint32Array(kept);
  for (let k = 0; k < kept; k++) {
    const r = keep[k]!;
    order[fill[pidRow[r]!]!++] = r;
  }
  yield;
  for (let p = 0; p < patientKeys.length; p++) {
    // A patient's results are a few hundred at most: a pause point every few dozen patients.
    if (p % 64 === 63) yield;
    order.subarray(start[p], start[p + 1]).sort((a, b) => timeCol[a]! - timeCol[b]! || compareRows(labId, a, b));
  }
  const time = new Float64Array(kept);
  const value = new Float64Array(kept);
  const lab = new Uint8Array(kept);
  for (let k = 0; k < kept; k++) {
    const r = order[k]!;
    time[k] = timeCol[r]!;
    value[k] = valueCol[r]!;
    lab[k] = labRow[r]!;
  }
  return { start, time, value, lab, rowsRead: t.rows.length };
}
