import type { Table } from 'apache-arrow';
import {
  type NormalizeContext,
  type Normalized,
  RawColumns,
  Verdicts,
  deidentifyPatients,
  lineageColumns,
  pseudonymIds,
  normalizeIcd10,
  requireStrings,
} from './common.js';

/** diagnoses -> curated diagnoses: codes normalised (no dot, upper case), rank checked. */
export function normalizeDiagnoses(table: Table, ctx: NormalizeContext): Normalized {
  const raw = new RawColumns(table);
  const v = new Verdicts(raw.n);
  const { keys } = deidentifyPatients(raw, v, ctx);
  const encounterIds = raw.strings('encounter_id');
  requireStrings(encounterIds, v, 'missing_encounter_id');
  const icd = raw.strings('icd10').map((code, i) => {
    const norm = normalizeIcd10(code);
    if (norm === null) v.reject(i, 'invalid_icd10');
    return norm;
  });
  const rankRaw = raw.floats('dx_rank');
  const rank = new Int32Array(raw.n);
  for (let i = 0; i < raw.n; i++) {
    const r = rankRaw[i]!;
    if (!(Number.isInteger(r) && r >= 1 && r <= 999)) v.reject(i, 'invalid_dx_rank');
    else rank[i] = r;
  }
  return {
    table: 'diagnoses',
    primaryKey: ['encounter_id', 'icd10'],
    patientKeys: keys,
    verdicts: v,
    columns: [
      { name: 'encounter_id', kind: 'string', values: pseudonymIds(encounterIds, (id) => ctx.pseudonymizer.encounterId(id)) },
      { name: 'patient_key', kind: 'string', values: keys },
      { name: 'icd10', kind: 'string', values: icd },
      { name: 'dx_rank', kind: 'int', values: rank },
      ...lineageColumns(raw.n, ctx),
    ],
  };
}
