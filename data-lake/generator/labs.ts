/**
 * The laboratory catalogue: 22 LOINC codes with their usual US units, adult reference ranges,
 * critical limits and alternate units, and how a result is drawn for a patient on a given stay
 * day. Values are rounded to the precision a lab reports, so what the lake shows is exactly what
 * the readmission risk used.
 */
import type { AbnormalFlag, Sex } from '../../schemas/raw.js';
import type { Rng } from './prng.js';

type ValueModel = 'hemoglobin' | 'hematocrit' | 'creatinine' | 'bun' | 'sodium' | 'albumin' | 'glucose' | 'a1c' | 'normal' | 'lognormal';

export interface LabSpec {
  loinc: string;
  name: string;
  unit: string;
  decimals: number;
  low: number;
  high: number;
  /** Sex-specific reference range for women, where it differs (`low`/`high` are for men). */
  femaleRange?: readonly [number, number];
  critLow?: number;
  critHigh?: number;
  model: ValueModel;
  /** For `normal`: mean and sd; for `lognormal`: median and log-sd. */
  center: number;
  spread: number;
  /** Shift per unit of stay severity, in units of `spread`. */
  severity: number;
  /** The alternate unit some systems send: value there = canonical value * factor. */
  alternate?: { unit: string; factor: number };
}

const s = (spec: LabSpec) => spec;

export const LABS = {
  glucose: s({
    loinc: '2345-7',
    name: 'Glucose',
    unit: 'mg/dL',
    decimals: 0,
    low: 70,
    high: 99,
    critLow: 50,
    critHigh: 400,
    model: 'glucose',
    center: 0,
    spread: 0,
    severity: 0,
    alternate: { unit: 'mmol/L', factor: 1 / 18.016 },
  }),
  creatinine: s({
    loinc: '2160-0',
    name: 'Creatinine',
    unit: 'mg/dL',
    decimals: 2,
    low: 0.74,
    high: 1.35,
    femaleRange: [0.59, 1.04],
    critHigh: 7,
    model: 'creatinine',
    center: 0,
    spread: 0,
    severity: 0,
    alternate: { unit: 'umol/L', factor: 88.42 },
  }),
  hemoglobin: s({
    loinc: '718-7',
    name: 'Hemoglobin',
    unit: 'g/dL',
    decimals: 1,
    low: 13.5,
    high: 17.5,
    femaleRange: [12.0, 15.5],
    critLow: 7,
    critHigh: 20,
    model: 'hemoglobin',
    center: 0,
    spread: 0,
    severity: 0,
    alternate: { unit: 'g/L', factor: 10 },
  }),
  hematocrit: s({
    loinc: '4544-3',
    name: 'Hematocrit',
    unit: '%',
    decimals: 1,
    low: 41,
    high: 53,
    femaleRange: [36, 46],
    critLow: 20,
    critHigh: 60,
    model: 'hematocrit',
    center: 0,
    spread: 0,
    severity: 0,
  }),
  sodium: s({
    loinc: '2951-2',
    name: 'Sodium',
    unit: 'mmol/L',
    decimals: 0,
    low: 135,
    high: 145,
    critLow: 120,
    critHigh: 160,
    model: 'sodium',
    center: 0,
    spread: 0,
    severity: 0,
  }),
  potassium: s({
    loinc: '2823-3',
    name: 'Potassium',
    unit: 'mmol/L',
    decimals: 1,
    low: 3.5,
    high: 5.1,
    critLow: 2.8,
    critHigh: 6.2,
    model: 'normal',
    center: 4.2,
    spread: 0.45,
    severity: 0.3,
  }),
  chloride: s({ loinc: '2075-0', name: 'Chloride', unit: 'mmol/L', decimals: 0, low: 98, high: 107, model: 'normal', center: 102, spread: 3, severity: -0.2 }),
  bicarbonate: s({
    loinc: '2028-9',
    name: 'Carbon dioxide, total',
    unit: 'mmol/L',
    decimals: 0,
    low: 22,
    high: 29,
    critLow: 10,
    critHigh: 40,
    model: 'normal',
    center: 25,
    spread: 2.8,
    severity: -0.5,
  }),
  bun: s({
    loinc: '3094-0',
    name: 'Urea nitrogen',
    unit: 'mg/dL',
    decimals: 0,
    low: 7,
    high: 20,
    critHigh: 100,
    model: 'bun',
    center: 0,
    spread: 0,
    severity: 0,
  }),
  calcium: s({
    loinc: '17861-6',
    name: 'Calcium',
    unit: 'mg/dL',
    decimals: 1,
    low: 8.6,
    high: 10.3,
    critLow: 6,
    critHigh: 13,
    model: 'normal',
    center: 9.2,
    spread: 0.5,
    severity: -0.4,
  }),
  wbc: s({
    loinc: '6690-2',
    name: 'Leukocytes',
    unit: '10*3/uL',
    decimals: 1,
    low: 4.5,
    high: 11,
    critLow: 1,
    critHigh: 30,
    model: 'lognormal',
    center: 7.5,
    spread: 0.3,
    severity: 0.5,
  }),
  platelets: s({
    loinc: '777-3',
    name: 'Platelets',
    unit: '10*3/uL',
    decimals: 0,
    low: 150,
    high: 400,
    critLow: 20,
    critHigh: 1000,
    model: 'lognormal',
    center: 240,
    spread: 0.3,
    severity: -0.2,
  }),
  albumin: s({ loinc: '1751-7', name: 'Albumin', unit: 'g/dL', decimals: 1, low: 3.5, high: 5, model: 'albumin', center: 0, spread: 0, severity: 0 }),
  bilirubin: s({
    loinc: '1975-2',
    name: 'Bilirubin, total',
    unit: 'mg/dL',
    decimals: 1,
    low: 0.1,
    high: 1.2,
    critHigh: 15,
    model: 'lognormal',
    center: 0.6,
    spread: 0.45,
    severity: 0.3,
  }),
  alt: s({
    loinc: '1742-6',
    name: 'Alanine aminotransferase',
    unit: 'U/L',
    decimals: 0,
    low: 7,
    high: 56,
    model: 'lognormal',
    center: 24,
    spread: 0.5,
    severity: 0.3,
  }),
  ast: s({
    loinc: '1920-8',
    name: 'Aspartate aminotransferase',
    unit: 'U/L',
    decimals: 0,
    low: 10,
    high: 40,
    model: 'lognormal',
    center: 26,
    spread: 0.5,
    severity: 0.3,
  }),
  lactate: s({
    loinc: '2524-7',
    name: 'Lactate',
    unit: 'mmol/L',
    decimals: 1,
    low: 0.5,
    high: 2.2,
    critHigh: 4,
    model: 'lognormal',
    center: 1.3,
    spread: 0.35,
    severity: 0.6,
  }),
  inr: s({
    loinc: '6301-6',
    name: 'INR',
    unit: '{INR}',
    decimals: 2,
    low: 0.8,
    high: 1.2,
    critHigh: 5,
    model: 'lognormal',
    center: 1.05,
    spread: 0.15,
    severity: 0.3,
  }),
  magnesium: s({
    loinc: '19123-9',
    name: 'Magnesium',
    unit: 'mg/dL',
    decimals: 1,
    low: 1.7,
    high: 2.2,
    critLow: 1,
    critHigh: 4,
    model: 'normal',
    center: 2,
    spread: 0.22,
    severity: -0.2,
  }),
  phosphate: s({
    loinc: '2777-1',
    name: 'Phosphate',
    unit: 'mg/dL',
    decimals: 1,
    low: 2.5,
    high: 4.5,
    model: 'normal',
    center: 3.5,
    spread: 0.6,
    severity: 0.2,
  }),
  hba1c: s({ loinc: '4548-4', name: 'Hemoglobin A1c', unit: '%', decimals: 1, low: 4, high: 5.6, model: 'a1c', center: 0, spread: 0, severity: 0 }),
  troponin: s({
    loinc: '10839-9',
    name: 'Troponin I, cardiac',
    unit: 'ng/mL',
    decimals: 3,
    low: 0,
    high: 0.04,
    model: 'lognormal',
    center: 0.012,
    spread: 0.9,
    severity: 0.8,
  }),
} as const;
export type LabName = keyof typeof LABS;

export const BASIC_METABOLIC_PANEL: readonly LabName[] = ['sodium', 'potassium', 'chloride', 'bicarbonate', 'bun', 'creatinine', 'glucose', 'calcium'];
export const BLOOD_COUNT: readonly LabName[] = ['wbc', 'hemoglobin', 'hematocrit', 'platelets'];

/** A patient's usual values, set once; a stay moves them. */
export interface LabBaseline {
  sex: Sex;
  hemoglobin: number;
  creatinine: number;
  sodium: number;
  albumin: number;
  glucose: number;
  glucoseSd: number;
  a1c: number;
}

/** How sick the patient is on this stay (severity ~ N(0,1) and up), and what is acutely off. */
export interface StayState {
  severity: number;
  /** Acute kidney injury: creatinine is multiplied by 1 + aki at admission, recovering. */
  aki: number;
  /** Acute hyponatremia at admission, mmol/L below baseline, recovering. */
  sodiumDrop: number;
}

const round = (value: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};

/** A canonical-unit result on day `day` (0 = admission) of a stay, rounded as reported. */
export function drawLabValue(spec: LabSpec, base: LabBaseline, stay: StayState, day: number, rng: Rng): number {
  const sick = Math.max(0, stay.severity);
  let v: number;
  switch (spec.model) {
    case 'hemoglobin':
      v = Math.min(21, Math.max(3.5, base.hemoglobin - 0.8 * sick - 0.15 * day + rng.normal(0, 0.35)));
      break;
    case 'hematocrit':
      v = Math.max(10, 3 * (base.hemoglobin - 0.8 * sick - 0.15 * day) + rng.normal(0, 1));
      break;
    case 'creatinine':
      v = Math.max(0.2, base.creatinine * (1 + stay.aki * Math.exp(-0.35 * day)) * Math.exp(rng.normal(0, 0.05)));
      break;
    case 'bun':
      v = Math.max(2, 14 * Math.pow(base.creatinine * (1 + stay.aki), 0.75) * Math.exp(rng.normal(0, 0.18)) + 4 * sick);
      break;
    case 'sodium':
      v = base.sodium - stay.sodiumDrop * Math.exp(-0.3 * day) + rng.normal(0, 1.2);
      break;
    case 'albumin':
      v = Math.max(1, base.albumin - 0.25 * sick - 0.03 * day + rng.normal(0, 0.15));
      break;
    case 'glucose':
      v = Math.max(30, base.glucose + 15 * stay.severity + rng.normal(0, base.glucoseSd));
      break;
    case 'a1c':
      v = Math.max(4, base.a1c + rng.normal(0, 0.1));
      break;
    case 'normal':
      v = spec.center + spec.spread * (rng.normal() + spec.severity * stay.severity);
      break;
    case 'lognormal':
      v = spec.center * Math.exp(spec.spread * (rng.normal() + spec.severity * stay.severity));
      break;
  }
  return Math.max(0, round(v, spec.decimals));
}

/** The abnormal flag of a canonical-unit value. */
export function abnormalFlag(spec: LabSpec, value: number, sex: Sex): AbnormalFlag {
  const [low, high] = sex === 'F' && spec.femaleRange ? spec.femaleRange : [spec.low, spec.high];
  if (spec.critLow !== undefined && value < spec.critLow) return 'LL';
  if (spec.critHigh !== undefined && value > spec.critHigh) return 'HH';
  if (value < low) return 'L';
  if (value > high) return 'H';
  return 'N';
}
