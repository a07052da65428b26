import type { Table } from 'apache-arrow';
import { ABNORMAL_FLAGS } from '../../../schemas/raw.js';
import { resolveUnit } from '../units.js';
import {
  type NormalizeContext, type Normalized, RawColumns, Verdicts, checkEnum, deidentifyPatients, lineageColumns,
  requireStrings, requireTimes, shifted,
} from './common.js';

const FLAGS = new Set(ABNORMAL_FLAGS.map((f) => f.toLowerCase()));
const LOINC_RE = /^\d{1,7}-\d$/;

/** lab_results -> curated: values in the canonical unit per LOINC code, times shifted per patient. */
export function normalizeLabResults(table: Table, ctx: NormalizeContext): Normalized {
  const raw = new RawColumns(table);
  const v = new Verdicts(raw.n);
  const { keys, shiftMs } = deidentifyPatients(raw, v, ctx);
  const labIds = raw.strings('lab_id');
  requireStrings(labIds, v, 'missing_lab_id');
  const observed = raw.millis('observed_at');
  requireTimes(observed, v, 'missing_observed_at');
  const loinc = raw.strings('loinc').map((code, i) => {
    const norm = code?.trim() ?? null;
    if (norm === null || !LOINC_RE.test(norm)) v.reject(i, 'invalid_loinc');
    return norm;
  });
  const units = raw.strings('unit');
  const value = raw.floats('value');
  const canonicalUnit = new Array<string | null>(raw.n).fill(null);
  for (let i = 0; i < raw.n; i++) {
    const code = loinc[i];
    if (!v.ok(i) || code === null || code === undefined) continue;
    if (Number.isNaN(value[i]!)) {
      canonicalUnit[i] = units[i] ?? null; // a non-numeric or missing result is kept as null
      continue;
    }
    if (value[i]! < 0 || !Number.isFinite(value[i]!)) {
      v.reject(i, 'impossible_value');
      continue;
    }
    const outcome = resolveUnit(code, units[i] ?? null);
    if (outcome.kind === 'unknown') {
      v.reject(i, 'unknown_unit');
    } else if (outcome.kind === 'converted') {
      value[i] = value[i]! * outcome.factor;
      canonicalUnit[i] = outcome.unit;
      v.correct(i);
    } else {
      canonicalUnit[i] = outcome.unit;
    }
  }
  const flags = checkEnum(raw.strings('abnormal_flag'), FLAGS, true, v, 'invalid_abnormal_flag').map((f) => f?.toUpperCase() ?? null);
  return {
    table: 'lab_results',
    primaryKey: ['lab_id'],
    patientKeys: keys,
    verdicts: v,
    columns: [
      { name: 'lab_id', kind: 'string', values: labIds },
      { name: 'patient_key', kind: 'string', values: keys },
      { name: 'encounter_id', kind: 'string', values: raw.strings('encounter_id') },
      { name: 'loinc', kind: 'string', values: loinc },
      { name: 'value', kind: 'float', values: value },
      { name: 'unit', kind: 'string', values: canonicalUnit },
      { name: 'observed_at', kind: 'timestamp', values: shifted(observed, shiftMs) },
      { name: 'abnormal_flag', kind: 'string', values: flags },
      ...lineageColumns(raw.n, ctx),
    ],
  };
}
