/**
 * The columns of a feature shard (one row per index stay): identifiers, the label and its
 * follow-up flag, then the model inputs. The lab list is the catalogue of LOINC codes the lake
 * carries in canonical units (the generator's 22; the same codes and units as ingest's
 * catalogue), each summarised over the stay by five statistics.
 */

export interface FeatureLab {
  name: string;
  loinc: string;
  /** The canonical unit the curated lake stores this code in. */
  unit: string;
}

export const FEATURE_LABS: readonly FeatureLab[] = [
  { name: 'glucose', loinc: '2345-7', unit: 'mg/dL' },
  { name: 'creatinine', loinc: '2160-0', unit: 'mg/dL' },
  { name: 'hemoglobin', loinc: '718-7', unit: 'g/dL' },
  { name: 'hematocrit', loinc: '4544-3', unit: '%' },
  { name: 'sodium', loinc: '2951-2', unit: 'mmol/L' },
  { name: 'potassium', loinc: '2823-3', unit: 'mmol/L' },
  { name: 'chloride', loinc: '2075-0', unit: 'mmol/L' },
  { name: 'bicarbonate', loinc: '2028-9', unit: 'mmol/L' },
  { name: 'bun', loinc: '3094-0', unit: 'mg/dL' },
  { name: 'calcium', loinc: '17861-6', unit: 'mg/dL' },
  { name: 'wbc', loinc: '6690-2', unit: '10*3/uL' },
  { name: 'platelets', loinc: '777-3', unit: '10*3/uL' },
  { name: 'albumin', loinc: '1751-7', unit: 'g/dL' },
  { name: 'bilirubin', loinc: '1975-2', unit: 'mg/dL' },
  { name: 'alt', loinc: '1742-6', unit: 'U/L' },
  { name: 'ast', loinc: '1920-8', unit: 'U/L' },
  { name: 'lactate', loinc: '2524-7', unit: 'mmol/L' },
  { name: 'inr', loinc: '6301-6', unit: '{INR}' },
  { name: 'magnesium', loinc: '19123-9', unit: 'mg/dL' },
  { name: 'phosphate', loinc: '2777-1', unit: 'mg/dL' },
  { name: 'hba1c', loinc: '4548-4', unit: '%' },
  { name: 'troponin', loinc: '10839-9', unit: 'ng/mL' },
];

/** Per lab over the stay: the latest value, the extremes, the mean and the number of results. */
export const LAB_STATS = ['last', 'min', 'max', 'mean', 'count'] as const;
export type LabStat = (typeof LAB_STATS)[number];

export const labColumn = (lab: string, stat: LabStat) => `lab_${lab}_${stat}`;

/** Identify the stay; never model inputs. Times are on the patient's shifted clock. */
export const ID_COLUMNS = ['encounter_id', 'patient_key', 'admit_time', 'discharge_time'] as const;
/** 1 when the patient was admitted as an inpatient within 30 days after discharge. */
export const LABEL_COLUMN = 'label';
/** 1 when the lake cannot yet show 30 days after the discharge: the label is not final (readmission.ts). */
export const CENSORED_COLUMN = 'censored';

export const BASE_NUMERIC_FEATURES = ['age', 'los_days', 'prior_inpatient_365d', 'prior_emergency_180d', 'charlson_index'] as const;
export const NUMERIC_FEATURES: readonly string[] = [
  ...BASE_NUMERIC_FEATURES,
  ...FEATURE_LABS.flatMap((lab) => LAB_STATS.map((stat) => labColumn(lab.name, stat))),
];
export const CATEGORICAL_FEATURES = ['sex', 'race', 'ethnicity', 'discharge_disposition', 'payer', 'dx_chapter'] as const;

export const NON_FEATURE_COLUMNS: ReadonlySet<string> = new Set([...ID_COLUMNS, LABEL_COLUMN, CENSORED_COLUMN]);
