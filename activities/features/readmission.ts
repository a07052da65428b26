/**
 * The reference task (docs/data-contract.md) for one bucket: index stays, their 30-day
 * readmission labels, and features known at discharge. Columnar: the tables are decoded once into
 * typed arrays grouped by patient (bucket-data.ts); each index stay then reads only its patient's
 * slices, and only what happened before its discharge:
 *
 * - index stay: an `inpatient` encounter with a discharge time and a disposition other than
 *   `expired`; label 1 when the patient has another inpatient admission in (discharge, discharge + 30 d].
 * - age: whole years from birth date to admission date (UTC calendar dates), capped at 90.
 * - los_days: (discharge - admission) in days.
 * - prior_inpatient_365d / prior_emergency_180d: the patient's inpatient (emergency) encounters
 *   admitted in [admission - 365 d (180 d), admission).
 * - charlson_index: Quan's ICD-10 Charlson index over the codes of the stay (diagnoses and primary
 *   diagnosis) and of the patient's encounters that ended in [admission - 365 d, admission].
 * - per lab of the catalogue: last, min, max, mean, count of the results observed in
 *   [admission, discharge] (last: latest time, then greatest lab id); null (count 0) if none.
 * - sex, race, ethnicity (the patient's latest row), discharge_disposition, payer, and dx_chapter
 *   (the ICD-10-CM chapter of the primary diagnosis, icd10-chapters.ts).
 *
 * Follow-up (`censored`). A label of 0 is final only once the lake shows the 30 days after the
 * discharge. The lake's clock is its ingest dates: the curated zone is taken as complete up to
 * `dataEndMs`, midnight starting its latest ingest date of encounters. Stay times are on the
 * patient's shifted clock (de-identification), which the feature build cannot undo, so a stay
 * counts as followed when either proof holds:
 *   1. by arrival: the lake first held the stay with its final discharge on ingest date A, and that
 *      discharge was past by day K = A + `discharge_lag_days` (ingest computes the lag on the
 *      unshifted times: 0 when the discharge came before A, more when a file carries a stay with a
 *      discharge on or after its own date); K + 30 d <= dataEndMs;
 *   2. by the shift bound: discharge + 30 d <= dataEndMs - MAX_SHIFT_DAYS, true whatever the
 *      patient's offset (|offset| <= MAX_SHIFT_DAYS).
 * Otherwise the stay is `censored` = 1: kept in the shard (it is what a deployed model scores) but
 * left out of training and of the labelled counts. Neither proof looks at the outcome, so
 * dropping censored stays does not bias the labels. Once the lake spans 30 ingest dates after its
 * initial load, proof 1 decides exactly (the generator's `censored`); in a younger lake only proof
 * 2 certifies, and only stays older than about 210 days.
 */
import { type Paced, runSync } from '../context.js';
import { MAX_SHIFT_DAYS } from '../ingest/pseudonymizer.js';
import type { CuratedColumn } from '../ingest/columns.js';
import {
  type BucketInputs,
  CLASS_EMERGENCY,
  CLASS_INPATIENT,
  DAY_MS,
  type Encounters,
  type Labs,
  addComorbidity,
  decodeEncounters,
  decodeLabs,
  decodePatients,
} from './bucket-data.js';
import { charlsonScore } from './charlson.js';
import { icd10Chapter } from './icd10-chapters.js';
import { FEATURE_LABS, LAB_STATS, labColumn } from './schema.js';

export const READMISSION_WINDOW_MS = 30 * DAY_MS;
const PRIOR_INPATIENT_MS = 365 * DAY_MS;
const PRIOR_EMERGENCY_MS = 180 * DAY_MS;
const COMORBIDITY_LOOKBACK_MS = 365 * DAY_MS;
const MAX_REPORTED_AGE = 90;

export interface FollowUp {
  /** Midnight (UTC, epoch ms) starting the latest ingest date of encounters; NaN when unknown. */
  dataEndMs: number;
}

export interface FeatureFrame {
  columns: CuratedColumn[];
  rows: number;
  positives: number;
  censored: number;
  /** Positives among the stays that are not censored. */
  labelledPositives: number;
  /** Lab result rows read (after deduplication). */
  labRows: number;
}

const isIndexStay = (enc: Encounters, i: number) => enc.cls[i] === CLASS_INPATIENT && !Number.isNaN(enc.discharge[i]!) && enc.disposition[i] !== 'expired';

/** y * 10000 + m * 100 + d of an epoch day (proleptic Gregorian, UTC), without a Date per call. */
export function civilDate(epochDay: number): number {
  const z = epochDay + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return (yoe + era * 400 + (m <= 2 ? 1 : 0)) * 10_000 + m * 100 + d;
}

/** Whole years between two epoch days (birthdays counted on the calendar). */
export function wholeYears(fromDay: number, toDay: number): number {
  return Math.floor((civilDate(toDay) - civilDate(fromDay)) / 10_000);
}

export function isFollowedUp(dischargeMs: number, closedArrivalDay: number, f: FollowUp): boolean {
  if (Number.isNaN(f.dataEndMs)) return false;
  if (closedArrivalDay >= 0 && closedArrivalDay * DAY_MS + READMISSION_WINDOW_MS <= f.dataEndMs) return true;
  return dischargeMs + READMISSION_WINDOW_MS <= f.dataEndMs - MAX_SHIFT_DAYS * DAY_MS;
}

/** First position in [lo, hi) whose time is >= t. */
function lowerBound(time: Float64Array, lo: number, hi: number, t: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (time[mid]! < t) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** Per lab, one column per statistic; `add` summarises one stay's results into its row. */
class LabAccumulator {
  readonly last: Float64Array[];
  readonly min: Float64Array[];
  readonly max: Float64Array[];
  readonly mean: Float64Array[];
  readonly count: Float64Array[];
  private readonly sums = new Float64Array(FEATURE_LABS.length);

  constructor(rows: number) {
    const columns = (fill: number) => FEATURE_LABS.map(() => new Float64Array(rows).fill(fill));
    [this.last, this.min, this.max, this.mean, this.count] = [columns(Number.NaN), columns(Number.NaN), columns(Number.NaN), columns(Number.NaN), columns(0)];
  }

  /** Results [from, to) of `labs` (in time order) into row `s`. */
  add(labs: Labs, from: number, to: number, s: number): void {
    this.sums.fill(0);
    for (let i = from; i < to; i++) {
      const l = labs.lab[i]!;
      const v = labs.value[i]!;
      this.last[l]![s] = v;
      const min = this.min[l]!;
      if (!(min[s]! <= v)) min[s] = v;
      const max = this.max[l]!;
      if (!(max[s]! >= v)) max[s] = v;
      this.count[l]![s]!++;
      this.sums[l]! += v;
    }
    for (let l = 0; l < FEATURE_LABS.length; l++) {
      const count = this.count[l]![s]!;
      if (count > 0) this.mean[l]![s] = this.sums[l]! / count;
    }
  }

  column(lab: number, stat: (typeof LAB_STATS)[number]): Float64Array {
    return this[stat][lab]!;
  }
}

export function buildReadmissionFeatures(input: BucketInputs, followUp: FollowUp): FeatureFrame {
  return runSync(readmissionFeatures(input, followUp));
}

/** buildReadmissionFeatures as a paced computation (context.ts): an activity runs it with pauses. */
export function* readmissionFeatures(input: BucketInputs, followUp: FollowUp): Paced<FeatureFrame> {
  const enc = yield* decodeEncounters(input.encounters);
  yield* addComorbidity(enc, input.diagnoses);
  const patients = decodePatients(input.patients, enc.patientKeys);
  yield;
  const labs = yield* decodeLabs(input.labs, enc.patientKeys);

  let rows = 0;
  for (let i = 0; i < enc.n; i++) if (isIndexStay(enc, i)) rows++;
  const stay = new Uint32Array(rows);
  const pidOfRow = new Uint32Array(rows);
  const f = {
    admit: new Float64Array(rows),
    discharge: new Float64Array(rows),
    label: new Int32Array(rows),
    censored: new Int32Array(rows),
    age: new Float64Array(rows),
    los: new Float64Array(rows),
    priorIp: new Float64Array(rows),
    priorEd: new Float64Array(rows),
    charlson: new Float64Array(rows),
  };
  const acc = new LabAccumulator(rows);
  let s = 0;
  let positives = 0;
  let censored = 0;
  let labelledPositives = 0;
  for (let p = 0; p < enc.patientKeys.length; p++) {
    // A patient's stays scan only that patient's encounters and labs: a pause point every few dozen.
    if (p % 64 === 63) yield;
    const lo = enc.start[p]!;
    const hi = enc.start[p + 1]!;
    for (let i = lo; i < hi; i++) {
      if (!isIndexStay(enc, i)) continue;
      const a = enc.admit[i]!;
      const d = enc.discharge[i]!;
      let label = 0;
      for (let j = i + 1; j < hi && enc.admit[j]! <= d + READMISSION_WINDOW_MS; j++) {
        if (enc.cls[j] === CLASS_INPATIENT && enc.admit[j]! > d) label = 1;
      }
      let priorIp = 0;
      let priorEd = 0;
      let mask = enc.comorbidity[i]!;
      for (let j = lo; j < hi; j++) {
        if (j === i) continue;
        const aj = enc.admit[j]!;
        if (aj < a && aj >= a - PRIOR_INPATIENT_MS && enc.cls[j] === CLASS_INPATIENT) priorIp++;
        if (aj < a && aj >= a - PRIOR_EMERGENCY_MS && enc.cls[j] === CLASS_EMERGENCY) priorEd++;
        const dj = enc.discharge[j]!;
        if (dj <= a && dj >= a - COMORBIDITY_LOOKBACK_MS) mask |= enc.comorbidity[j]!;
      }
      const followed = isFollowedUp(d, enc.closedArrivalDay[i]!, followUp);
      stay[s] = i;
      pidOfRow[s] = p;
      f.admit[s] = a;
      f.discharge[s] = d;
      f.label[s] = label;
      f.censored[s] = followed ? 0 : 1;
      const birth = patients.birthDay[p]!;
      f.age[s] = Number.isNaN(birth) ? Number.NaN : Math.min(MAX_REPORTED_AGE, wholeYears(birth, Math.floor(a / DAY_MS)));
      f.los[s] = (d - a) / DAY_MS;
      f.priorIp[s] = priorIp;
      f.priorEd[s] = priorEd;
      f.charlson[s] = charlsonScore(mask);
      const labLo = labs.start[p]!;
      const labHi = labs.start[p + 1]!;
      const from = lowerBound(labs.time, labLo, labHi, a);
      acc.add(labs, from, lowerBound(labs.time, from, labHi, d + 1), s);
      positives += label;
      if (followed) labelledPositives += label;
      else censored++;
      s++;
    }
  }
  yield;
  const byStay = <T>(col: T[]) => Array.from(stay, (i) => col[i]!);
  const byPatient = <T>(col: T[]) => Array.from(pidOfRow, (p) => col[p]!);
  const columns: CuratedColumn[] = [
    { name: 'encounter_id', kind: 'string', values: byStay(enc.id) },
    { name: 'patient_key', kind: 'string', values: byPatient(enc.patientKeys) },
    { name: 'admit_time', kind: 'timestamp', values: f.admit },
    { name: 'discharge_time', kind: 'timestamp', values: f.discharge },
    { name: 'label', kind: 'int', values: f.label },
    { name: 'censored', kind: 'int', values: f.censored },
    { name: 'age', kind: 'float', values: f.age },
    { name: 'los_days', kind: 'float', values: f.los },
    { name: 'prior_inpatient_365d', kind: 'float', values: f.priorIp },
    { name: 'prior_emergency_180d', kind: 'float', values: f.priorEd },
    { name: 'charlson_index', kind: 'float', values: f.charlson },
    ...FEATURE_LABS.flatMap((lab, l) =>
      LAB_STATS.map((stat): CuratedColumn => ({
        name: labColumn(lab.name, stat),
        kind: 'float',
        values: acc.column(l, stat),
      })),
    ),
    { name: 'sex', kind: 'string', values: byPatient(patients.sex) },
    { name: 'race', kind: 'string', values: byPatient(patients.race) },
    { name: 'ethnicity', kind: 'string', values: byPatient(patients.ethnicity) },
    { name: 'discharge_disposition', kind: 'string', values: byStay(enc.disposition) },
    { name: 'payer', kind: 'string', values: byStay(enc.payer) },
    { name: 'dx_chapter', kind: 'string', values: byStay(enc.primaryDx).map(icd10Chapter) },
  ];
  return { columns, rows, positives, censored, labelledPositives, labRows: labs.rowsRead };
}
