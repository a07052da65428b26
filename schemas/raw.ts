/**
 * The raw data contract (/work/shared/data-contract.md) as Arrow schemas: the four landing-zone
 * tables, their primary keys and their coded values. Fields that are HIPAA Safe Harbor
 * identifiers carry the metadata `phi: "true"`: the contract's PHI column, plus every date of a
 * patient's care (`discharge_time`, which Safe Harbor lists with the admission date) and
 * `patient_id` wherever it appears.
 */
import { DateDay, Field, Float64, Int32, Schema, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import type { RawTable } from '../data-lake/layout.js';

export const PHI_METADATA_KEY = 'phi';

function field(name: string, type: DataType, nullable: boolean, phi = false): Field {
  return new Field(name, type, nullable, phi ? new Map([[PHI_METADATA_KEY, 'true']]) : null);
}

const utf8 = () => new Utf8();
const timestampMs = () => new TimestampMillisecond('UTC');

export const contractSchemas: Readonly<Record<RawTable, Schema>> = {
  patients: new Schema([
    field('patient_id', utf8(), false, true),
    field('first_name', utf8(), false, true),
    field('last_name', utf8(), false, true),
    field('birth_date', new DateDay(), false, true),
    field('sex', utf8(), false),
    field('race', utf8(), true),
    field('ethnicity', utf8(), true),
    field('zip', utf8(), true, true),
    field('ssn', utf8(), true, true),
    field('phone', utf8(), true, true),
    field('email', utf8(), true, true),
  ]),
  encounters: new Schema([
    field('encounter_id', utf8(), false),
    field('patient_id', utf8(), false, true),
    field('encounter_class', utf8(), false),
    field('admit_time', timestampMs(), false, true),
    field('discharge_time', timestampMs(), true, true),
    field('primary_dx', utf8(), false),
    field('discharge_disposition', utf8(), true),
    field('facility_id', utf8(), false),
    field('payer', utf8(), true),
  ]),
  diagnoses: new Schema([
    field('encounter_id', utf8(), false),
    field('patient_id', utf8(), false, true),
    field('icd10', utf8(), false),
    field('dx_rank', new Int32(), false),
  ]),
  lab_results: new Schema([
    field('lab_id', utf8(), false),
    field('patient_id', utf8(), false, true),
    field('encounter_id', utf8(), true),
    field('loinc', utf8(), false),
    field('value', new Float64(), true),
    field('unit', utf8(), true),
    field('observed_at', timestampMs(), false, true),
    field('abnormal_flag', utf8(), true),
  ]),
};

export const RAW_PRIMARY_KEYS: Readonly<Record<RawTable, readonly string[]>> = {
  patients: ['patient_id'],
  encounters: ['encounter_id'],
  diagnoses: ['encounter_id', 'icd10'],
  lab_results: ['lab_id'],
};

export const SEX_VALUES = ['F', 'M', 'U'] as const;
export const ENCOUNTER_CLASSES = ['inpatient', 'emergency', 'outpatient', 'ambulatory'] as const;
export const DISCHARGE_DISPOSITIONS = ['home', 'home_health', 'snf', 'rehab', 'ama', 'expired', 'other'] as const;
export const PAYERS = ['medicare', 'medicaid', 'commercial', 'self_pay', 'other'] as const;
export const ABNORMAL_FLAGS = ['L', 'H', 'LL', 'HH', 'N'] as const;

export type Sex = (typeof SEX_VALUES)[number];
export type EncounterClass = (typeof ENCOUNTER_CLASSES)[number];
export type DischargeDisposition = (typeof DISCHARGE_DISPOSITIONS)[number];
export type Payer = (typeof PAYERS)[number];
export type AbnormalFlag = (typeof ABNORMAL_FLAGS)[number];

/** Whether a field is tagged as PHI in its metadata. */
export function isPhiField(f: Field): boolean {
  return f.metadata.get(PHI_METADATA_KEY) === 'true';
}
