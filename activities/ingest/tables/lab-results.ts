import type { Table } from 'apache-arrow';
import { ABNORMAL_FLAGS } from '../../../schemas/raw.js';
import { convert, isPossible } from '../lab-catalog.js';
import { unitResolver } from '../units.js';
import {
  type NormalizeContext,
  type Normalized,
  RawColumns,
  Verdicts,
  checkEarliestTime,
  checkEnum,
  deidentifyPatients,
  lineageColumns,
  pseudonymIds,
  requireStrings,
  requireTimes,
  shifted,
} from './common.js';

const FLAGS = new Set(ABNORMAL_FLAGS.map((f) => f.toLowerCase()));
const LOINC_RE = /^\d{1,7}-\d$/;

/**
 * lab_results -> curated: values in the canonical unit of their LOINC code (lab-catalog.ts), times
 * shifted per patient. Rejected: a code of the wrong shape (`invalid_loinc`) or not in the catalogue
 * (`unknown_loinc`), a unit the catalogue does not know for the code (`unknown_unit`), a value outside
 * what is physiologically possible once converted (`impossible_value`), an observation time before
 * 1900 (`implausible_observed_at`). A result without a value is kept, with
 * no unit: nothing was measured.
 */
export function normalizeLabResults(table: Table, ctx: NormalizeContext): Normalized {
  const raw = new RawColumns(table);
  const v = new Verdicts(raw.n);
  const { keys, shiftMs } = deidentifyPatients(raw, v, ctx);
  const labIds = raw.strings('lab_id');
  requireStrings(labIds, v, 'missing_lab_id');
  const observed = raw.millis('observed_at');
  requireTimes(observed, v, 'missing_observed_at');
  checkEarliestTime(observed, v, 'implausible_observed_at');
  const loinc = raw.strings('loinc').map((code, i) => {
    const norm = code?.trim() ?? null;
    if (norm === null || !LOINC_RE.test(norm)) v.reject(i, 'invalid_loinc');
    return norm;
  });
  const units = raw.strings('unit');
  const value = raw.floats('value');
  const canonicalUnit = new Array<string | null>(raw.n).fill(null);
  const resolve = unitResolver();
  for (let i = 0; i < raw.n; i++) {
    const code = loinc[i];
    if (!v.ok(i) || code === null || code === undefined) continue;
    const outcome = resolve(code, units[i] ?? null);
    if (outcome.kind === 'unknown_loinc') {
      v.reject(i, 'unknown_loinc');
      continue;
    }
    const x = value[i]!;
    if (Number.isNaN(x)) continue; // a non-numeric or missing result: kept, value and unit null
    if (outcome.kind === 'unknown_unit') {
      v.reject(i, 'unknown_unit');
      continue;
    }
    const canonical = outcome.kind === 'converted' ? convert(outcome.conversion, x) : x;
    if (!Number.isFinite(canonical) || !isPossible(outcome.analyte.range, canonical)) {
      v.reject(i, 'impossible_value');
      continue;
    }
    value[i] = canonical;
    canonicalUnit[i] = outcome.analyte.unit;
    if (outcome.kind === 'converted') v.correct(i);
  }
  const flags = checkEnum(raw.strings('abnormal_flag'), FLAGS, true, v, 'invalid_abnormal_flag').map((f) => f?.toUpperCase() ?? null);
  return {
    table: 'lab_results',
    primaryKey: ['lab_id'],
    patientKeys: keys,
    verdicts: v,
    columns: [
      { name: 'lab_id', kind: 'string', values: pseudonymIds(labIds, (id) => ctx.pseudonymizer.labId(id)) },
      { name: 'patient_key', kind: 'string', values: keys },
      { name: 'encounter_id', kind: 'string', values: pseudonymIds(raw.strings('encounter_id'), (id) => ctx.pseudonymizer.encounterId(id)) },
      { name: 'loinc', kind: 'string', values: loinc },
      { name: 'value', kind: 'float', values: value },
      { name: 'unit', kind: 'string', values: canonicalUnit },
      { name: 'observed_at', kind: 'timestamp', values: shifted(observed, shiftMs) },
      { name: 'abnormal_flag', kind: 'string', values: flags },
      ...lineageColumns(raw.n, ctx),
    ],
  };
}
