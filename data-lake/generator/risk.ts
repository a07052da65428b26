/**
 * The causal 30-day readmission model (README.md, "Readmissions"). The risk is a logistic
 * function of what is known when an inpatient stay ends, computed from the values the lake
 * shows for that stay; the delay to a readmission has a fixed distribution, so the chance that a
 * readmission falls before the end of the data (and can be seen) is known exactly too.
 */
import type { DischargeDisposition, Payer } from '../../schemas/raw.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
/** Risks are rounded to this resolution so that the Bayes AUC can be computed exactly from counts. */
export const RISK_RESOLUTION = 1_000_000;

/** Known at discharge. Lab extremes are over the stay's results, canonical units; NaN = not measured. */
export interface DischargeFacts {
  /** Whole years at discharge (birth date to discharge date), capped at 90 as de-identification does. */
  age: number;
  /** (discharge_time - admit_time) in days. */
  losDays: number;
  /** Inpatient admissions of the patient in the 365 days before this admission. */
  priorInpatient365: number;
  /** Charlson index over this stay's diagnosis codes (charlson.ts). */
  charlson: number;
  hemoglobinMin: number;
  creatinineMax: number;
  sodiumMin: number;
  albuminMin: number;
  disposition: Exclude<DischargeDisposition, 'expired'>;
  payer: Payer | null;
}

export const RISK_COEFFICIENTS = {
  intercept: -3.3,
  agePerYearOver65: 0.015,
  logPriorStays: 0.65,
  charlsonPerPoint: 0.14,
  losPerDay: 0.038,
  losCapDays: 21,
  hemoglobinPerGdlBelow11: 0.23,
  creatininePerMgdlAbove1_3: 0.36,
  sodiumPerMmolBelow135: 0.095,
  albuminPerGdlBelow3_4: 0.55,
  disposition: { home: 0, home_health: 0.19, snf: 0.36, rehab: 0.16, ama: 0.7, other: 0.11 },
  payer: { medicare: 0.085, medicaid: 0.28, commercial: -0.11, self_pay: 0.085, other: 0 },
} as const;

const hinge = (x: number, cap: number) => (Number.isNaN(x) ? 0 : Math.min(cap, Math.max(0, x)));

export function readmissionLogit(f: DischargeFacts): number {
  const c = RISK_COEFFICIENTS;
  return (
    c.intercept +
    c.agePerYearOver65 * (Math.min(f.age, 90) - 65) +
    c.logPriorStays * Math.log1p(f.priorInpatient365) +
    c.charlsonPerPoint * Math.min(f.charlson, 12) +
    c.losPerDay * Math.min(f.losDays, c.losCapDays) +
    c.hemoglobinPerGdlBelow11 * hinge(11 - f.hemoglobinMin, 5) +
    c.creatininePerMgdlAbove1_3 * hinge(f.creatinineMax - 1.3, 3) +
    c.sodiumPerMmolBelow135 * hinge(135 - f.sodiumMin, 10) +
    c.albuminPerGdlBelow3_4 * hinge(3.4 - f.albuminMin, 1.5) +
    c.disposition[f.disposition] +
    (f.payer === null ? 0 : c.payer[f.payer])
  );
}

export function quantizeRisk(p: number): number {
  return Math.round(p * RISK_RESOLUTION) / RISK_RESOLUTION;
}

/** P(readmitted within 30 days), rounded to RISK_RESOLUTION. */
export function readmissionRisk(f: DischargeFacts): number {
  return quantizeRisk(1 / (1 + Math.exp(-readmissionLogit(f))));
}

/**
 * Days from discharge to readmission, d = 1..30 with weight exp(-d / 10) (most readmissions come
 * early); the admission is at discharge + (d - 1) days + U[1 h, 24 h).
 */
export const DELAY_WEIGHTS: readonly number[] = Array.from({ length: 30 }, (_, i) => Math.exp(-(i + 1) / 10));
const DELAY_TOTAL = DELAY_WEIGHTS.reduce((a, b) => a + b, 0);
const FIRST_HOUR = HOUR_MS;

export function readmissionAdmitMs(dischargeMs: number, delayIndex: number, u: number): number {
  return dischargeMs + delayIndex * DAY_MS + FIRST_HOUR + Math.floor(u * (DAY_MS - FIRST_HOUR));
}

/** P(a readmission, if one is drawn, is admitted before `cutoffMs` and so lands in the lake). */
export function probabilitySeenBefore(dischargeMs: number, cutoffMs: number): number {
  const gap = cutoffMs - dischargeMs;
  let seen = 0;
  for (let i = 0; i < DELAY_WEIGHTS.length; i++) {
    const from = i * DAY_MS + FIRST_HOUR;
    const to = (i + 1) * DAY_MS;
    const share = gap >= to ? 1 : gap <= from ? 0 : (gap - from) / (to - from);
    seen += DELAY_WEIGHTS[i]! * share;
  }
  return seen / DELAY_TOTAL;
}
