/**
 * The ICD-10-CM codes the generator writes: chronic conditions per Charlson category (every one
 * inside Quan's mapping, see charlson.ts), reasons for a visit per encounter class, and common
 * secondary diagnoses outside the index. All are billable ICD-10-CM codes.
 */
import type { EncounterClass } from '../../schemas/raw.js';
import type { CharlsonCategory } from './charlson.js';
import type { Rng } from './prng.js';

export interface ChronicCondition {
  category: CharlsonCategory;
  codes: readonly string[];
  /** Prevalence at age 65 in a hospital population, before the age slope. */
  prevalence: number;
  /** Log-odds-like slope per year of age: prevalence * exp(slope * (age - 65)). */
  ageSlope: number;
}

/**
 * Conditions drawn independently per patient, except the pairs noted: uncomplicated and
 * complicated diabetes, mild and severe liver disease exclude each other, and a metastatic tumour
 * comes only with a malignancy (whose code is then also written, as it is in real charts).
 */
export const CHRONIC_CONDITIONS: readonly ChronicCondition[] = [
  { category: 'myocardial_infarction', codes: ['I25.2'], prevalence: 0.08, ageSlope: 0.03 },
  { category: 'congestive_heart_failure', codes: ['I50.9', 'I50.22', 'I50.32', 'I11.0', 'I42.0'], prevalence: 0.13, ageSlope: 0.045 },
  { category: 'peripheral_vascular', codes: ['I73.9', 'I70.213', 'I70.0'], prevalence: 0.07, ageSlope: 0.04 },
  { category: 'cerebrovascular', codes: ['I69.30', 'I67.2', 'G45.9'], prevalence: 0.08, ageSlope: 0.045 },
  { category: 'dementia', codes: ['F03.90', 'G30.9', 'F01.50'], prevalence: 0.05, ageSlope: 0.09 },
  { category: 'chronic_pulmonary', codes: ['J44.9', 'J43.9', 'J45.909', 'J47.9'], prevalence: 0.15, ageSlope: 0.015 },
  { category: 'rheumatic', codes: ['M06.9', 'M32.9', 'M35.3', 'M05.79'], prevalence: 0.03, ageSlope: 0.01 },
  { category: 'peptic_ulcer', codes: ['K25.9', 'K27.9', 'K26.9'], prevalence: 0.02, ageSlope: 0.01 },
  { category: 'mild_liver', codes: ['K74.60', 'K70.30', 'B18.2', 'K76.0'], prevalence: 0.04, ageSlope: -0.005 },
  { category: 'severe_liver', codes: ['K72.90', 'I85.00', 'K76.6', 'K70.40'], prevalence: 0.012, ageSlope: -0.005 },
  { category: 'diabetes', codes: ['E11.9', 'E11.65', 'E10.9', 'E11.8'], prevalence: 0.14, ageSlope: 0.015 },
  { category: 'diabetes_complicated', codes: ['E11.22', 'E11.40', 'E11.319', 'E10.21', 'E11.51'], prevalence: 0.08, ageSlope: 0.02 },
  { category: 'hemiplegia', codes: ['G81.91', 'G82.20', 'G83.9'], prevalence: 0.015, ageSlope: 0 },
  { category: 'renal', codes: ['N18.4', 'N18.6', 'I12.0', 'Z99.2', 'N18.30', 'N18.5'], prevalence: 0.14, ageSlope: 0.04 },
  { category: 'malignancy', codes: ['C34.90', 'C18.9', 'C50.911', 'C61', 'C83.30', 'C25.9', 'C92.10'], prevalence: 0.09, ageSlope: 0.03 },
  { category: 'metastatic_tumor', codes: ['C78.7', 'C79.51', 'C77.9', 'C78.00'], prevalence: 0.3, ageSlope: 0 },
  { category: 'hiv_aids', codes: ['B20'], prevalence: 0.005, ageSlope: -0.03 },
];

type Weighted = ReadonlyArray<readonly [code: string, weight: number]>;

/** Why a patient is admitted, roughly as common as in US discharge data. */
const INPATIENT_REASONS: Weighted = [
  ['J18.9', 10],
  ['A41.9', 9],
  ['N39.0', 6],
  ['N17.9', 5],
  ['L03.115', 4],
  ['S72.001A', 3],
  ['I63.9', 4],
  ['I21.4', 4],
  ['K92.2', 4],
  ['I48.91', 4],
  ['R55', 3],
  ['K85.90', 2],
  ['K57.92', 2],
  ['I26.99', 2],
  ['J96.01', 3],
  ['U07.1', 3],
  ['E86.0', 3],
  ['R07.9', 3],
  ['M62.82', 1],
];

const EMERGENCY_REASONS: Weighted = [
  ['R07.9', 8],
  ['R10.9', 8],
  ['J06.9', 6],
  ['N39.0', 4],
  ['S09.90XA', 3],
  ['R51.9', 4],
  ['M54.50', 5],
  ['S93.401A', 3],
  ['R11.2', 3],
  ['T78.40XA', 2],
  ['K52.9', 3],
  ['R42', 3],
];

const OUTPATIENT_REASONS: Weighted = [
  ['Z00.00', 8],
  ['I10', 8],
  ['E11.9', 5],
  ['Z23', 4],
  ['E78.5', 5],
  ['J30.9', 2],
  ['M17.11', 2],
  ['K21.9', 3],
];

const AMBULATORY_REASONS: Weighted = [
  ['Z12.11', 5],
  ['H25.9', 4],
  ['M17.11', 2],
  ['K80.20', 2],
  ['N40.0', 2],
  ['Z51.11', 2],
];

/** When a chronic condition flares, this is the admitting diagnosis. */
export const FLARE_REASON: Partial<Record<CharlsonCategory, string>> = {
  congestive_heart_failure: 'I50.23',
  chronic_pulmonary: 'J44.1',
  diabetes: 'E11.65',
  diabetes_complicated: 'E11.22',
  renal: 'N18.6',
  severe_liver: 'K72.90',
  malignancy: 'Z51.11',
};

/** Secondary diagnoses outside the Charlson index, with their prevalence among adults in hospital. */
export const COMMON_SECONDARY: Weighted = [
  ['I10', 0.45],
  ['E78.5', 0.35],
  ['E66.9', 0.18],
  ['F17.210', 0.14],
  ['Z79.01', 0.08],
  ['K21.9', 0.12],
];

/** Secondary diagnoses written when the stay's labs show them (none is in the Charlson index). */
export const LAB_DIAGNOSES = { hyponatremia: 'E87.1', anemia: 'D64.9', acuteKidneyInjury: 'N17.9' } as const;

const REASONS: Record<EncounterClass, Weighted> = {
  inpatient: INPATIENT_REASONS,
  emergency: EMERGENCY_REASONS,
  outpatient: OUTPATIENT_REASONS,
  ambulatory: AMBULATORY_REASONS,
};
const REASON_WEIGHTS: Record<EncounterClass, number[]> = {
  inpatient: INPATIENT_REASONS.map(([, w]) => w),
  emergency: EMERGENCY_REASONS.map(([, w]) => w),
  outpatient: OUTPATIENT_REASONS.map(([, w]) => w),
  ambulatory: AMBULATORY_REASONS.map(([, w]) => w),
};

export function drawReason(rng: Rng, encounterClass: EncounterClass): string {
  return REASONS[encounterClass][rng.weighted(REASON_WEIGHTS[encounterClass])]![0];
}

/** Facilities; the ones listed as dotless send ICD-10 codes without the dot (`E119`). */
export const FACILITIES = ['FAC01', 'FAC02', 'FAC03', 'FAC04', 'FAC05'] as const;
const DOTLESS_FACILITIES: ReadonlySet<string> = new Set(['FAC03', 'FAC05']);

/** A code as the facility writes it. */
export function asWrittenBy(facility: string, code: string): string {
  return DOTLESS_FACILITIES.has(facility) ? code.replace('.', '') : code;
}
