import type { Table } from 'apache-arrow';
import { DISCHARGE_DISPOSITIONS, ENCOUNTER_CLASSES, PAYERS } from '../../../schemas/raw.js';
import {
  DAY_MS,
  type NormalizeContext,
  type Normalized,
  RawColumns,
  Verdicts,
  checkEarliestTime,
  checkEnum,
  deidentifyPatients,
  lineageColumns,
  normalizeIcd10,
  pseudonymIds,
  requireStrings,
  requireTimes,
  shifted,
} from './common.js';

const CLASSES = new Set<string>(ENCOUNTER_CLASSES);
const DISPOSITIONS = new Set<string>(DISCHARGE_DISPOSITIONS);
const PAYER_VALUES = new Set<string>(PAYERS);
/**
 * Longer stays exist (long-term psychiatric or rehabilitation care), but not in an acute-care
 * extract: a stay over a year is a wrong date.
 */
const MAX_LENGTH_OF_STAY_MS = 365 * DAY_MS;

/**
 * encounters -> curated encounters: times shifted per patient, primary diagnosis normalised.
 * Rejected: an admission before 1900 (`implausible_admit_time`), a discharge before the admission or
 * more than 365 days after it (`implausible_length_of_stay`), a primary diagnosis that is not
 * ICD-10-CM-shaped. Times are not judged against the ingest date (reasons.ts, the contract).
 */
export function normalizeEncounters(table: Table, ctx: NormalizeContext): Normalized {
  const raw = new RawColumns(table);
  const v = new Verdicts(raw.n);
  const { keys, shiftMs } = deidentifyPatients(raw, v, ctx);
  const encounterIds = raw.strings('encounter_id');
  requireStrings(encounterIds, v, 'missing_encounter_id');
  const admit = raw.millis('admit_time');
  const discharge = raw.millis('discharge_time');
  requireTimes(admit, v, 'missing_admit_time');
  checkEarliestTime(admit, v, 'implausible_admit_time');
  for (let i = 0; i < raw.n; i++) {
    const d = discharge[i]!;
    if (Number.isNaN(d)) continue; // open stay
    if (d < admit[i]!) v.reject(i, 'discharge_before_admission');
    else if (d - admit[i]! > MAX_LENGTH_OF_STAY_MS) v.reject(i, 'implausible_length_of_stay');
  }
  const ingestDay = Math.floor(Date.parse(`${ctx.ingestDate}T00:00:00Z`) / DAY_MS);
  const dischargeLag = new Int32Array(raw.n);
  for (let i = 0; i < raw.n; i++) {
    const d = discharge[i]!;
    if (!Number.isNaN(d)) dischargeLag[i] = Math.max(0, Math.floor(d / DAY_MS) + 1 - ingestDay);
  }
  const encounterClass = checkEnum(raw.strings('encounter_class'), CLASSES, false, v, 'invalid_encounter_class');
  const disposition = checkEnum(raw.strings('discharge_disposition'), DISPOSITIONS, true, v, 'invalid_discharge_disposition');
  const payer = checkEnum(raw.strings('payer'), PAYER_VALUES, true, v, 'invalid_payer');
  const facility = raw.strings('facility_id');
  requireStrings(facility, v, 'missing_facility_id');
  const dx = raw.strings('primary_dx').map((code, i) => {
    const norm = normalizeIcd10(code);
    if (norm === null) v.reject(i, 'invalid_primary_dx');
    return norm;
  });
  return {
    table: 'encounters',
    primaryKey: ['encounter_id'],
    patientKeys: keys,
    verdicts: v,
    columns: [
      { name: 'encounter_id', kind: 'string', values: pseudonymIds(encounterIds, (id) => ctx.pseudonymizer.encounterId(id)) },
      { name: 'patient_key', kind: 'string', values: keys },
      { name: 'encounter_class', kind: 'string', values: encounterClass },
      { name: 'admit_time', kind: 'timestamp', values: shifted(admit, shiftMs) },
      { name: 'discharge_time', kind: 'timestamp', values: shifted(discharge, shiftMs) },
      { name: 'primary_dx', kind: 'string', values: dx },
      { name: 'discharge_disposition', kind: 'string', values: disposition },
      { name: 'facility_id', kind: 'string', values: facility },
      { name: 'payer', kind: 'string', values: payer },
      // Days after the ingest date until the (unshifted) discharge is in the past: 0 unless the file
      // carries a discharge on or after its own date. The feature build's follow-up clock needs it.
      { name: 'discharge_lag_days', kind: 'int', values: dischargeLag },
      ...lineageColumns(raw.n, ctx),
    ],
  };
}
