/**
 * The reference task (docs/data-contract.md): index stays, their 30-day readmission labels, and
 * features known at discharge. Only events at or before the index discharge are read, so nothing
 * from the future leaks in. Columnar: typed arrays and grouped row indices, no object per row.
 */
import type { Table } from 'apache-arrow';
import { stringValues } from '../io/arrow-columns.js';
import { timestampColumnToMillis } from '../io/parquet.js';
import type { CuratedColumn } from '../ingest/columns.js';
import type { BucketTable } from './read-bucket.js';

const DAY_MS = 86_400_000;
const READMIT_WINDOW_MS = 30 * DAY_MS;

/** Labs whose last value during the stay is a feature (canonical units). */
export const LAB_FEATURES: Record<string, string> = {
  '2345-7': 'glucose', '2160-0': 'creatinine', '718-7': 'hemoglobin', '2951-2': 'sodium',
  '2823-3': 'potassium', '3094-0': 'bun', '6690-2': 'wbc',
};

function groupBy(keys: (string | null)[], rows: Uint32Array): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const r of rows) {
    const k = keys[r];
    if (k === null || k === undefined) continue;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  return groups;
}

function col(t: BucketTable, name: string): (string | null)[] {
  return t.table ? stringValues(t.table.getChild(name), t.table.numRows) : [];
}
function times(t: BucketTable, name: string): Float64Array {
  const v = t.table?.getChild(name);
  return v ? timestampColumnToMillis(v) : new Float64Array(0);
}
function floats(table: Table | null, name: string): Float64Array {
  const v = table?.getChild(name);
  if (!v) return new Float64Array(0);
  const out = new Float64Array(v.length);
  let i = 0;
  for (const x of v as Iterable<number | null>) out[i++] = x ?? Number.NaN;
  return out;
}

export interface ReadmissionInputs {
  patients: BucketTable;
  encounters: BucketTable;
  diagnoses: BucketTable;
  labs: BucketTable;
}

export function buildReadmissionFeatures(input: ReadmissionInputs): { columns: CuratedColumn[]; rows: number; positives: number } {
  const enc = input.encounters;
  const encId = col(enc, 'encounter_id');
  const encPatient = col(enc, 'patient_key');
  const encClass = col(enc, 'encounter_class');
  const admit = times(enc, 'admit_time');
  const discharge = times(enc, 'discharge_time');
  const disposition = col(enc, 'discharge_disposition');
  const payer = col(enc, 'payer');
  const dx = col(enc, 'primary_dx');

  const patientRow = new Map<string, number>();
  const pKey = col(input.patients, 'patient_key');
  for (const r of input.patients.rows) if (pKey[r]) patientRow.set(pKey[r], r);
  const birth = times(input.patients, 'birth_date');
  const sex = col(input.patients, 'sex');
  const race = col(input.patients, 'race');
  const ethnicity = col(input.patients, 'ethnicity');

  const dxCount = new Map<string, number>();
  const dxEnc = col(input.diagnoses, 'encounter_id');
  for (const r of input.diagnoses.rows) if (dxEnc[r]) dxCount.set(dxEnc[r], (dxCount.get(dxEnc[r]) ?? 0) + 1);

  const labsByPatient = groupBy(col(input.labs, 'patient_key'), input.labs.rows);
  const labTime = times(input.labs, 'observed_at');
  const labLoinc = col(input.labs, 'loinc');
  const labValue = floats(input.labs.table, 'value');

  const byPatient = groupBy(encPatient, enc.rows);
  const out = { encounter_id: [] as (string | null)[], patient_key: [] as (string | null)[], discharge: [] as number[], label: [] as number[],
    age: [] as number[], sex: [] as (string | null)[], race: [] as (string | null)[], ethnicity: [] as (string | null)[],
    los: [] as number[], priorIp: [] as number[], priorEd: [] as number[], nDx: [] as number[], nLabs: [] as number[],
    disposition: [] as (string | null)[], payer: [] as (string | null)[], chapter: [] as (string | null)[],
    labs: Object.fromEntries(Object.values(LAB_FEATURES).map((n) => [n, [] as number[]])) };

  for (const [patient, rows] of byPatient) {
    rows.sort((a, b) => admit[a]! - admit[b]!);
    const pRow = patientRow.get(patient);
    const patientLabs = labsByPatient.get(patient) ?? [];
    for (const r of rows) {
      if (encClass[r] !== 'inpatient' || Number.isNaN(discharge[r]!) || disposition[r] === 'expired') continue;
      const d = discharge[r]!;
      const a = admit[r]!;
      let label = 0;
      let priorIp = 0;
      let priorEd = 0;
      for (const o of rows) {
        if (o === r) continue;
        const oa = admit[o]!;
        if (encClass[o] === 'inpatient' && oa > d && oa <= d + READMIT_WINDOW_MS) label = 1;
        if (oa < a && encClass[o] === 'inpatient' && oa >= a - 365 * DAY_MS) priorIp++;
        if (oa < a && encClass[o] === 'emergency' && oa >= a - 180 * DAY_MS) priorEd++;
      }
      const last: Record<string, { t: number; v: number }> = {};
      let nLabs = 0;
      for (const l of patientLabs) {
        const t = labTime[l]!;
        if (t < a || t > d) continue; // only what was observed during the stay
        nLabs++;
        const name = LAB_FEATURES[labLoinc[l] ?? ''];
        if (name && !Number.isNaN(labValue[l]!) && (!last[name] || t >= last[name].t)) last[name] = { t, v: labValue[l]! };
      }
      out.encounter_id.push(encId[r] ?? null);
      out.patient_key.push(patient);
      out.discharge.push(d);
      out.label.push(label);
      out.age.push(pRow === undefined || Number.isNaN(birth[pRow]!) ? Number.NaN : (a - birth[pRow]!) / (365.2425 * DAY_MS));
      out.sex.push(pRow === undefined ? null : sex[pRow] ?? null);
      out.race.push(pRow === undefined ? null : race[pRow] ?? null);
      out.ethnicity.push(pRow === undefined ? null : ethnicity[pRow] ?? null);
      out.los.push((d - a) / DAY_MS);
      out.priorIp.push(priorIp);
      out.priorEd.push(priorEd);
      out.nDx.push(dxCount.get(encId[r] ?? '') ?? 0);
      out.nLabs.push(nLabs);
      out.disposition.push(disposition[r] ?? null);
      out.payer.push(payer[r] ?? null);
      out.chapter.push(dx[r]?.slice(0, 1) ?? null);
      for (const name of Object.values(LAB_FEATURES)) out.labs[name]!.push(last[name]?.v ?? Number.NaN);
    }
  }
  const f = (values: number[]) => Float64Array.from(values);
  const columns: CuratedColumn[] = [
    { name: 'encounter_id', kind: 'string', values: out.encounter_id },
    { name: 'patient_key', kind: 'string', values: out.patient_key },
    { name: 'discharge_time', kind: 'timestamp', values: f(out.discharge) },
    { name: 'label', kind: 'int', values: Int32Array.from(out.label) },
    { name: 'age', kind: 'float', values: f(out.age) },
    { name: 'sex', kind: 'string', values: out.sex },
    { name: 'race', kind: 'string', values: out.race },
    { name: 'ethnicity', kind: 'string', values: out.ethnicity },
    { name: 'los_days', kind: 'float', values: f(out.los) },
    { name: 'prior_inpatient_365d', kind: 'float', values: f(out.priorIp) },
    { name: 'prior_emergency_180d', kind: 'float', values: f(out.priorEd) },
    { name: 'n_diagnoses', kind: 'float', values: f(out.nDx) },
    { name: 'n_labs', kind: 'float', values: f(out.nLabs) },
    ...Object.values(LAB_FEATURES).map((name): CuratedColumn => ({ name: `lab_${name}_last`, kind: 'float', values: f(out.labs[name]!) })),
    { name: 'discharge_disposition', kind: 'string', values: out.disposition },
    { name: 'payer', kind: 'string', values: out.payer },
    { name: 'dx_chapter', kind: 'string', values: out.chapter },
  ];
  return { columns, rows: out.label.length, positives: out.label.reduce((s, x) => s + x, 0) };
}
