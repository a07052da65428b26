import type { Table } from 'apache-arrow';
import { SEX_VALUES } from '../../../schemas/raw.js';
import { NULL_DAY } from '../columns.js';
import { zip3 } from '../pseudonymizer.js';
import { DAY_MS, type NormalizeContext, type Normalized, RawColumns, Verdicts, checkEnum, deidentifyPatients, lineageColumns } from './common.js';

const SEX = new Set(SEX_VALUES.map((s) => s.toLowerCase()));
const ETHNICITY = new Set(['hispanic', 'nonhispanic']);
/** Safe Harbor: ages over 89 are reported as 90. */
const MAX_REPORTED_AGE = 90;
const MAX_PLAUSIBLE_AGE = 125;
const YEAR_DAYS = 365.2425;

/**
 * patients -> curated patients: names, SSN, phone, email dropped; zip kept to 3 digits; birth
 * date shifted with the patient's offset and, for anyone over 89 on the ingest date, moved so
 * the age reads 90.
 */
export function normalizePatients(table: Table, ctx: NormalizeContext): Normalized {
  const raw = new RawColumns(table);
  const v = new Verdicts(raw.n);
  const { keys, shiftMs } = deidentifyPatients(raw, v, ctx);
  const birthMs = raw.millis('birth_date');
  const ingestDay = Math.floor(Date.parse(`${ctx.ingestDate}T00:00:00Z`) / DAY_MS);
  const birthDays = new Int32Array(raw.n).fill(NULL_DAY);
  for (let i = 0; i < raw.n; i++) {
    if (Number.isNaN(birthMs[i]!)) {
      v.reject(i, 'missing_birth_date');
      continue;
    }
    const day = Math.floor(birthMs[i]! / DAY_MS);
    const ageYears = (ingestDay - day) / YEAR_DAYS;
    if (ageYears < 0 || ageYears > MAX_PLAUSIBLE_AGE) {
      v.reject(i, 'implausible_birth_date');
      continue;
    }
    const capped = ageYears >= MAX_REPORTED_AGE ? ingestDay - Math.ceil(MAX_REPORTED_AGE * YEAR_DAYS) : day;
    birthDays[i] = capped + Math.round(shiftMs[i]! / DAY_MS);
  }
  const sex = checkEnum(raw.strings('sex'), SEX, false, v, 'invalid_sex').map((s) => s?.toUpperCase() ?? null);
  const ethnicity = checkEnum(raw.strings('ethnicity'), ETHNICITY, true, v, 'invalid_ethnicity');
  const race = raw.strings('race').map((r) => (r === null ? null : r.trim().toLowerCase()));
  return {
    table: 'patients',
    primaryKey: ['patient_key'],
    patientKeys: keys,
    verdicts: v,
    columns: [
      { name: 'patient_key', kind: 'string', values: keys },
      { name: 'birth_date', kind: 'date', values: birthDays },
      { name: 'sex', kind: 'string', values: sex },
      { name: 'race', kind: 'string', values: race },
      { name: 'ethnicity', kind: 'string', values: ethnicity },
      { name: 'zip3', kind: 'string', values: raw.strings('zip').map(zip3) },
      ...lineageColumns(raw.n, ctx),
    ],
  };
}
