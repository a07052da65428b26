/**
 * Between the clinical simulation and the row builders: each clean row goes through here, where
 * the row-level messiness knobs act (alternate units, corrections, duplicates, impossible rows,
 * unknown codes).
 * Every decision draws from the patient's own messiness streams, never the clinical one, so the
 * clean rows of a lake are the same whatever the knobs say; what was injected is counted.
 */
import type { RawTable } from '../layout.js';
import type { Sex } from '../../schemas/raw.js';
import { Calendar } from './calendar.js';
import { type LabSpec, LABS, abnormalFlag } from './labs.js';
import type { MessinessOptions } from './options.js';
import { drawPhone } from './people.js';
import { Rng } from './prng.js';
import type { ChunkRows } from './raw-rows.js';
import { DAY_MS, HOUR_MS } from './risk.js';

export interface MessinessCounts {
  /** Lab rows sent in an alternate unit (their corrections included). */
  alternateUnits: number;
  /** Extra rows that cannot be true, each with a key of its own. */
  impossible: { patients: number; encounters: number; lab_results: number };
  /** Extra rows under a code no vocabulary has (a LOINC code that does not exist, a malformed ICD-10 code), each with a key of its own. */
  unknownCodes: { diagnoses: number; lab_results: number };
  /** Extra rows identical to the row before them. */
  duplicates: Record<RawTable, number>;
  /** Rows that supersede an earlier row with the same key on a later ingest date. */
  corrections: Record<RawTable, number>;
}

export function emptyCounts(): MessinessCounts {
  const perTable = () => ({ patients: 0, encounters: 0, diagnoses: 0, lab_results: 0 });
  return {
    alternateUnits: 0,
    impossible: { patients: 0, encounters: 0, lab_results: 0 },
    unknownCodes: { diagnoses: 0, lab_results: 0 },
    duplicates: perTable(),
    corrections: perTable(),
  };
}

export const MESSINESS_STREAM = 2;
/** The unknown-code knob's own stream, so turning it on leaves every other knob's draws as they were. */
export const UNKNOWN_CODE_STREAM = 4;

/**
 * LOINC-shaped codes that cannot exist: their check digit is wrong (LOINC's mod-10 check digit of
 * 99999 is 5, of 12345 is 5, of 88888 is 3).
 */
export const UNKNOWN_LOINC_CODES = ['99999-9', '12345-0', '88888-1'] as const;
/** Codes a diagnosis field can hold but ICD-10-CM cannot: garbled, ICD-9 (`250.00`, `428.0`), truncated, a misplaced dot. */
export const MALFORMED_ICD10_CODES = ['XX.Y', '250.00', '428.0', 'E1', 'E1.19'] as const;

export class RowEmitter {
  private file = 0;
  private mess = new Rng(0);
  private unknown = new Rng(0);

  constructor(
    private readonly rows: ChunkRows,
    private readonly knobs: MessinessOptions,
    private readonly calendar: Calendar,
    private readonly seed: number,
    readonly counts: MessinessCounts,
  ) {}

  beginPatient(index: number): void {
    this.file = index % this.rows.filesPerDay;
    this.mess = Rng.derive(this.seed, index, MESSINESS_STREAM);
    this.unknown = Rng.derive(this.seed, index, UNKNOWN_CODE_STREAM);
  }

  private dup(table: RawTable): boolean {
    if (!this.mess.bernoulli(this.knobs.duplicateRate)) return false;
    this.counts.duplicates[table]++;
    return true;
  }

  /** A later ingest date for a correction, or undefined when `day` is the last one. */
  private correctionDay(day: number): number | undefined {
    if (day >= this.calendar.lastDay || !this.mess.bernoulli(this.knobs.correctionRate)) return undefined;
    return Math.min(this.calendar.lastDay, day + this.mess.int(1, 3));
  }

  patient(
    day: number,
    id: string,
    first: string,
    last: string,
    birthDay: number,
    sex: Sex,
    race: string | null,
    ethnicity: string | null,
    zip: string | null,
    ssn: string | null,
    phone: string | null,
    email: string | null,
  ): void {
    const put = (d: number, pid: string, birth: number, ph: string | null) => {
      const times = this.dup('patients') ? 2 : 1;
      for (let i = 0; i < times; i++) this.rows.rows('patients', d, this.file).append(pid, first, last, birth, sex, race, ethnicity, zip, ssn, ph, email);
    };
    const later = phone === null ? undefined : this.correctionDay(day);
    if (later !== undefined) {
      let old = drawPhone(this.mess);
      if (old === phone) old = old.slice(0, -1) + String((Number(old.slice(-1)) + 1) % 10);
      put(day, id, birthDay, old);
      this.counts.corrections.patients++;
    }
    put(later ?? day, id, birthDay, phone);
    if (this.mess.bernoulli(this.knobs.impossibleRate)) {
      // Born 140 years before the first ingest date.
      const birth = Calendar.epochDay(this.calendar.firstIngestMs) - Math.round(140 * 365.25) - this.mess.int(0, 300);
      put(day, `${id}X`, birth, phone);
      this.counts.impossible.patients++;
    }
  }

  /** `dischargeMs` NaN for a stay open at the cutoff. An inpatient stay may first be sent open. */
  encounter(
    day: number,
    id: string,
    patientId: string,
    encounterClass: string,
    admitMs: number,
    dischargeMs: number,
    primaryDx: string,
    disposition: string | null,
    facility: string,
    payer: string | null,
  ): void {
    const put = (d: number, eid: string, cls: string, admit: number, discharge: number, disp: string | null) => {
      const times = this.dup('encounters') ? 2 : 1;
      for (let i = 0; i < times; i++)
        this.rows.rows('encounters', d, this.file).append(eid, patientId, cls, admit, discharge, primaryDx, disp, facility, payer);
    };
    const openDay = this.calendar.landingDay(admitMs);
    if (encounterClass === 'inpatient' && !Number.isNaN(dischargeMs) && openDay < day && this.mess.bernoulli(this.knobs.correctionRate)) {
      put(openDay, id, encounterClass, admitMs, NaN, null);
      this.counts.corrections.encounters++;
    }
    put(day, id, encounterClass, admitMs, dischargeMs, disposition);
    if (this.mess.bernoulli(this.knobs.impossibleRate)) {
      // A visit discharged before it began; not inpatient, so it cannot touch a readmission label.
      const discharge = admitMs - this.mess.uniform(HOUR_MS, 2 * DAY_MS);
      put(day, `${id}X`, encounterClass === 'outpatient' ? 'outpatient' : 'emergency', admitMs, Math.round(discharge), 'home');
      this.counts.impossible.encounters++;
    }
  }

  diagnosis(day: number, encounterId: string, patientId: string, icd10: string, rank: number): void {
    const times = this.dup('diagnoses') ? 2 : 1;
    const rows = this.rows.rows('diagnoses', day, this.file);
    for (let i = 0; i < times; i++) rows.append(encounterId, patientId, icd10, rank);
    // At most one per stay (drawn on its first code), so the (encounter, code) key stays unique.
    if (rank === 1 && this.unknown.bernoulli(this.knobs.unknownCodeRate)) {
      rows.append(`${encounterId}UX`, patientId, this.unknown.pick(MALFORMED_ICD10_CODES), rank);
      this.counts.unknownCodes.diagnoses++;
    }
  }

  /** A canonical-unit result (NaN: sent without value, unit or flag); the flag is computed here. */
  lab(day: number, id: string, patientId: string, encounterId: string | null, spec: LabSpec, value: number, observedMs: number, sex: Sex): void {
    const alternate = spec.alternate !== undefined && this.mess.bernoulli(this.knobs.alternateUnitRate);
    const later = this.correctionDay(day);
    if (this.unknown.bernoulli(this.knobs.unknownCodeRate)) {
      const unit = Number.isNaN(value) ? null : spec.unit;
      this.rows
        .rows('lab_results', day, this.file)
        .append(`${id}UX`, patientId, encounterId, this.unknown.pick(UNKNOWN_LOINC_CODES), value, unit, observedMs, null);
      this.counts.unknownCodes.lab_results++;
    }
    if (Number.isNaN(value)) {
      this.putLab(day, id, patientId, encounterId, null, spec, NaN, false, observedMs, null);
      return;
    }
    if (later !== undefined) {
      const scale = 10 ** spec.decimals;
      let wrong = Math.round(value * this.mess.pick(WRONG_FACTORS) * scale) / scale;
      if (wrong === value) wrong = (Math.round(value * scale) + 1) / scale;
      this.putLab(day, id, patientId, encounterId, spec.unit, spec, wrong, alternate, observedMs, abnormalFlag(spec, wrong, sex));
      this.counts.corrections.lab_results++;
    }
    this.putLab(later ?? day, id, patientId, encounterId, spec.unit, spec, value, alternate, observedMs, abnormalFlag(spec, value, sex));
    if (this.mess.bernoulli(this.knobs.impossibleRate)) {
      this.putLab(day, `${id}X`, patientId, encounterId, LABS.glucose.unit, LABS.glucose, -this.mess.int(5, 120), false, observedMs, 'LL');
      this.counts.impossible.lab_results++;
    }
  }

  /** `unit` is the canonical unit, or null; `alternate` sends the value converted to the alternate unit. */
  private putLab(
    day: number,
    id: string,
    patientId: string,
    encounterId: string | null,
    unit: string | null,
    spec: LabSpec,
    canonical: number,
    alternate: boolean,
    observedMs: number,
    flag: string | null,
  ): void {
    const alt = alternate ? spec.alternate : undefined;
    const value = alt ? canonical * alt.factor : canonical;
    const times = this.dup('lab_results') ? 2 : 1;
    const rows = this.rows.rows('lab_results', day, this.file);
    for (let i = 0; i < times; i++) rows.append(id, patientId, encounterId, spec.loinc, value, alt ? alt.unit : unit, observedMs, flag);
    if (alt) this.counts.alternateUnits += times;
  }
}

/**
 * How a wrong first result differs from the right one (a misread or mislabelled sample). Wrong but
 * possible: a sodium x0.6 or x1.5 would leave what a living patient can have, and a reader would
 * reject the row as impossible, which is the impossible knob's part, not this one's.
 */
const WRONG_FACTORS = [0.8, 0.9, 1.1, 1.25] as const;
