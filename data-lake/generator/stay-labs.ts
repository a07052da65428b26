/**
 * The lab results of one encounter. An inpatient stay gets a full panel on admission and a
 * morning basic metabolic panel and blood count every day after; other visits sometimes get one
 * draw. Results observed after the encounter ends or after the cutoff are never drawn. The stay's
 * extremes of the labs the readmission risk reads are returned, in canonical units (results
 * without a value do not count, as they cannot for a reader of the lake).
 */
import type { EncounterClass } from '../../schemas/raw.js';
import { BASIC_METABOLIC_PANEL, BLOOD_COUNT, LABS, type LabName, type StayState, drawLabValue } from './labs.js';
import type { PatientState } from './patient.js';
import type { Rng } from './prng.js';
import { DAY_MS, HOUR_MS } from './risk.js';
import type { StayEnv } from './stay-env.js';

const MISSING_VALUE_RATE = 0.003;

export interface StayLabSummary {
  hemoglobinMin: number;
  creatinineMax: number;
  sodiumMin: number;
  albuminMin: number;
  firstLandingDay: number;
}

/** Extra tests on admission, each drawn with its probability; liver tests come together. */
const ADMISSION_EXTRAS: ReadonlyArray<readonly [readonly LabName[], number]> = [
  [['albumin'], 0.6],
  [['bilirubin', 'alt', 'ast'], 0.5],
  [['lactate'], 0.3],
  [['troponin'], 0.3],
  [['inr'], 0.3],
  [['magnesium'], 0.4],
  [['phosphate'], 0.3],
];
const DAILY_EXTRAS: ReadonlyArray<readonly [readonly LabName[], number]> = [
  [['magnesium'], 0.3],
  [['phosphate'], 0.2],
  [['albumin'], 0.15],
];

/** `stayLanding`: the ingest date of a stay sent whole at admission, where its results land too. */
export function drawStayLabs(
  env: StayEnv,
  rng: Rng,
  pt: PatientState,
  cls: EncounterClass,
  idPrefix: string,
  encounterId: string,
  admitMs: number,
  limitMs: number,
  stay: StayState,
  stayLanding: number | undefined,
): StayLabSummary {
  const summary: StayLabSummary = { hemoglobinMin: NaN, creatinineMax: NaN, sodiumMin: NaN, albuminMin: NaN, firstLandingDay: env.calendar.lastDay };
  let seq = 0;
  const day0 = Math.floor(admitMs / DAY_MS);

  // Some clinic results come from an outside laboratory, not linked to the visit.
  const linkedId = cls === 'outpatient' && rng.bernoulli(0.3) ? null : encounterId;
  const result = (name: LabName, observedMs: number, keep: number, evening: boolean) => {
    if (keep < 1 && !rng.bernoulli(keep)) return;
    const spec = LABS[name];
    const day = Math.floor(observedMs / DAY_MS) - day0;
    // A few specimens are unusable (haemolysed, clotted): the result is sent without a value.
    const value = rng.bernoulli(MISSING_VALUE_RATE) ? NaN : drawLabValue(spec, pt.baseline, stay, day, rng);
    // An outside laboratory's result (not linked to the visit) is not part of the stay's extract.
    const landing = (linkedId === null ? undefined : stayLanding) ?? env.timing.landing(observedMs, evening);
    env.emitter.lab(landing, `${idPrefix}${String(++seq).padStart(3, '0')}`, pt.id, linkedId, spec, value, observedMs, pt.sex);
    summary.firstLandingDay = Math.min(summary.firstLandingDay, landing);
    if (Number.isNaN(value)) return;
    if (name === 'hemoglobin') summary.hemoglobinMin = minOf(summary.hemoglobinMin, value);
    else if (name === 'creatinine') summary.creatinineMax = -minOf(-summary.creatinineMax, -value);
    else if (name === 'sodium') summary.sodiumMin = minOf(summary.sodiumMin, value);
    else if (name === 'albumin') summary.albuminMin = minOf(summary.albuminMin, value);
  };
  const panel = (names: readonly LabName[], at: number, keep = 1, evening = false) => {
    for (const name of names) result(name, at, keep, evening);
  };
  const drawAt = (fromHours: number, toHours: number) => Math.round(admitMs + rng.uniform(fromHours, toHours) * HOUR_MS);

  const diabetic = pt.conditions.has('diabetes') || pt.conditions.has('diabetes_complicated');
  switch (cls) {
    case 'inpatient': {
      const first = drawAt(0.5, 2);
      if (first >= limitMs) break;
      panel(BASIC_METABOLIC_PANEL, first);
      panel(BLOOD_COUNT, first);
      for (const [names, p] of ADMISSION_EXTRAS) if (rng.bernoulli(p)) panel(names, first);
      if (diabetic && rng.bernoulli(0.3)) panel(['hba1c'], first);
      for (let k = 1; ; k++) {
        const morning = Math.round((day0 + k) * DAY_MS + rng.uniform(4.5, 7) * HOUR_MS);
        // The evening knob draws some rounds late the local evening before: the same UTC date.
        const evening = env.timing.isEvening();
        const at = evening ? env.timing.eveningOf((day0 + k - 1) * DAY_MS) : morning;
        if (at >= limitMs) break;
        panel(BASIC_METABOLIC_PANEL, at, 0.9, evening);
        panel(BLOOD_COUNT, at, 0.9, evening);
        for (const [names, p] of DAILY_EXTRAS) if (rng.bernoulli(p)) panel(names, at, 1, evening);
      }
      break;
    }
    case 'emergency': {
      const at = drawAt(0.5, 1.5);
      if (at >= limitMs || !rng.bernoulli(0.7)) break;
      panel(BASIC_METABOLIC_PANEL, at);
      panel(BLOOD_COUNT, at);
      panel(['troponin'], at, 0.4);
      panel(['lactate'], at, 0.2);
      break;
    }
    case 'outpatient': {
      const at = drawAt(0.1, 0.3);
      if (at >= limitMs || !rng.bernoulli(0.35)) break;
      if (diabetic && rng.bernoulli(0.5)) panel(['hba1c', 'glucose'], at);
      else panel([...BASIC_METABOLIC_PANEL, ...BLOOD_COUNT], at);
      break;
    }
    case 'ambulatory': {
      const at = drawAt(0.2, 0.8);
      if (at >= limitMs || !rng.bernoulli(0.3)) break;
      panel([...BASIC_METABOLIC_PANEL, ...BLOOD_COUNT, 'inr'], at);
      break;
    }
  }
  return summary;
}

/** min() where NaN means "nothing yet". */
function minOf(current: number, value: number): number {
  return Number.isNaN(current) || value < current ? value : current;
}
