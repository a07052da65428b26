/**
 * Every reason ingest sets a row or a file aside, or corrects a row, with the rule behind it.
 * docs/data-contract.md ("Reasons a row or file is set aside") lists the same codes with the same
 * rules, and tests/unit/contract-reasons.test.ts fails when the two differ: a row is rejected only
 * for a reason the contract names. Workflow-safe: constants only.
 */

/** Row-level rejections: the row is recorded in rejects/ by row number, code and pseudonym. */
export const REJECT_REASONS = {
  missing_patient_id: 'patient_id is null or blank (any table)',
  duplicate_key_in_file: 'an earlier row of the same file has the same primary key; the last one is kept (any table)',
  missing_birth_date: 'patients: birth_date is null',
  implausible_birth_date: "patients: birth_date after the file's ingest_date, or an age over 125 on that date",
  invalid_sex: 'patients: sex is not F, M or U',
  invalid_ethnicity: 'patients: ethnicity is neither null, hispanic nor nonhispanic',
  missing_encounter_id: 'encounters, diagnoses: encounter_id is null or blank',
  missing_admit_time: 'encounters: admit_time is null',
  implausible_admit_time: 'encounters: admit_time before 1900-01-01',
  discharge_before_admission: 'encounters: discharge_time earlier than admit_time',
  implausible_length_of_stay: 'encounters: discharge_time more than 365 days after admit_time',
  invalid_encounter_class: 'encounters: encounter_class not one of the contract values',
  invalid_discharge_disposition: 'encounters: discharge_disposition neither null nor one of the contract values',
  invalid_payer: 'encounters: payer neither null nor one of the contract values',
  missing_facility_id: 'encounters: facility_id is null or blank',
  invalid_primary_dx: 'encounters: primary_dx is not ICD-10-CM-shaped',
  invalid_icd10: 'diagnoses: icd10 is not ICD-10-CM-shaped',
  invalid_dx_rank: 'diagnoses: dx_rank is not a whole number from 1 to 999',
  missing_lab_id: 'lab_results: lab_id is null or blank',
  missing_observed_at: 'lab_results: observed_at is null',
  implausible_observed_at: 'lab_results: observed_at before 1900-01-01',
  invalid_loinc: 'lab_results: loinc is not LOINC-shaped (digits, a dash, a check digit)',
  unknown_loinc: "lab_results: a LOINC code carepipe's lab catalogue does not hold",
  unknown_unit: 'lab_results: a value in a unit the catalogue does not know for its code',
  impossible_value: 'lab_results: a value outside what is physiologically possible, once in the canonical unit',
  invalid_abnormal_flag: 'lab_results: abnormal_flag neither null nor L, H, LL, HH or N',
  string_too_long:
    "any table: a string in a contract column longer than ingest's string bound (CAREPIPE_INGEST_MAX_STRING_KB, default 64 KiB); takes precedence over other reasons",
} as const;
export type RejectReason = keyof typeof REJECT_REASONS;

/** Row-level corrections: the row is accepted with a value rewritten, and counted as corrected. */
export const CORRECTION_REASONS = {
  unit_converted: 'lab_results: a value in an alternative unit, converted to the canonical unit of its code',
} as const;
export type CorrectionReason = keyof typeof CORRECTION_REASONS;

/** File-level reasons: the whole file is copied to quarantine/ with its reason, none of its rows counted. */
export const QUARANTINE_REASONS = {
  CorruptFileError: 'not readable as Parquet (truncated, corrupt, not Parquet), or it killed the decoder twice',
  SchemaMismatchError: 'a required column is missing, or a column has a type the contract cannot widen to its own',
  FileTooLargeError:
    "the object is listed larger than ingest's file-size cap (not read), or its footer says its columns decode to more than the decoded-size cap (not decoded)",
  InvalidUtf8Error: 'a string column holds bytes that are not UTF-8 (the Parquet reader refuses the whole file)',
} as const;
export type QuarantineReason = keyof typeof QUARANTINE_REASONS;

export const isRejectReason = (code: string): code is RejectReason => Object.hasOwn(REJECT_REASONS, code);
