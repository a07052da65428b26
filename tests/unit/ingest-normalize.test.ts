import test from 'ava';
import { Table, type Vector } from 'apache-arrow';
import { bucketTable, curateFile, type CurateRequest } from '../../activities/ingest/curate.js';
import { LAB_CATALOG, convert } from '../../activities/ingest/lab-catalog.js';
import { Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import { CORRECTED, type NormalizeContext, type Normalized, REJECTED } from '../../activities/ingest/tables/common.js';
import { normalizeDiagnoses } from '../../activities/ingest/tables/diagnoses.js';
import { normalizeEncounters } from '../../activities/ingest/tables/encounters.js';
import { normalizeLabResults } from '../../activities/ingest/tables/lab-results.js';
import { normalizePatients } from '../../activities/ingest/tables/patients.js';
import { resolveUnit } from '../../activities/ingest/units.js';
import { NULL_DAY, date32Vector, float64Vector, int32Vector, int64Vector, timestampMsVector, utf8Vector } from '../../activities/io/arrow-columns.js';
import { writeParquet } from '../../activities/io/parquet.js';
import { LABS, NO_MESSINESS, encodeFile } from '../../data-lake/generator/index.js';
import { RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { RAW_PRIMARY_KEYS } from '../../schemas/raw.js';
import { generate } from '../helpers/generated.js';

const DAY = 86_400_000;
const SECRET = Buffer.alloc(32, 7);
const pseudonymizer = new Pseudonymizer({ activeId: 'test-key', keys: new Map([['test-key', SECRET]]), source: 'test' });
const INGEST_DATE = '2025-03-10';
const START = Date.parse(`${INGEST_DATE}T00:00:00Z`);
/** The first instant after the ingest date. */
const END = START + DAY;
const NOON_BEFORE = START - DAY / 2;
const HOUR = 3_600_000;
const YEAR_1900 = Date.UTC(1900, 0, 1);
const ctx = (table: RawTable): NormalizeContext => ({
  source: `raw/${table}/ingest_date=${INGEST_DATE}/hand-built.parquet`,
  ingestDate: INGEST_DATE,
  fileName: 'hand-built.parquet',
  pseudonymizer,
});

/** A row's verdict: its reject reason, or `accepted` / `corrected`. */
function verdict(n: Normalized, row: number): string {
  const status = n.verdicts.status[row];
  return status === REJECTED ? n.verdicts.reasons[row]! : status === CORRECTED ? 'corrected' : 'accepted';
}
const values = (n: Normalized, name: string) => n.columns.find((c) => c.name === name)!.values;
const strings = (n: Normalized, name: string) => values(n, name) as (string | null)[];
const floats = (n: Normalized, name: string) => values(n, name) as Float64Array;
const times = (rows: number[]) => timestampMsVector(Float64Array.from(rows));
const closeTo = (actual: number, expected: number) => (expected === 0 ? actual === 0 : Math.abs(actual - expected) <= 1e-12 * Math.abs(expected));

interface LabCase {
  label: string;
  loinc: string;
  value: number;
  unit: string | null;
  at?: number;
  expect: string;
  /** The curated value and unit, for accepted and corrected rows. */
  canonical?: [number, string] | [null, null];
}

const LAB_CASES: LabCase[] = [
  { label: 'glucose in its canonical unit', loinc: '2345-7', value: 95, unit: 'mg/dL', expect: 'accepted', canonical: [95, 'mg/dL'] },
  { label: 'glucose, canonical unit in lower case', loinc: '2345-7', value: 95, unit: 'mg/dl', expect: 'accepted', canonical: [95, 'mg/dL'] },
  { label: 'glucose, canonical unit in upper case with spaces', loinc: '2345-7', value: 95, unit: ' MG / DL ', expect: 'accepted', canonical: [95, 'mg/dL'] },
  { label: 'glucose in mmol/L', loinc: '2345-7', value: 5.5, unit: 'mmol/L', expect: 'corrected', canonical: [5.5 * 18.016, 'mg/dL'] },
  { label: 'glucose in MMOL/L', loinc: '2345-7', value: 5.5, unit: 'MMOL/L', expect: 'corrected', canonical: [5.5 * 18.016, 'mg/dL'] },
  { label: 'creatinine in umol/L', loinc: '2160-0', value: 88.42, unit: 'umol/L', expect: 'corrected', canonical: [1, 'mg/dL'] },
  { label: 'creatinine in µmol/L (micro sign)', loinc: '2160-0', value: 100, unit: '\u00b5mol/L', expect: 'corrected', canonical: [100 / 88.42, 'mg/dL'] },
  { label: 'creatinine in μmol/l (Greek mu)', loinc: '2160-0', value: 100, unit: '\u03bcmol/l', expect: 'corrected', canonical: [100 / 88.42, 'mg/dL'] },
  { label: 'hemoglobin in g/L', loinc: '718-7', value: 123, unit: 'g/L', expect: 'corrected', canonical: [12.3, 'g/dL'] },
  { label: 'urea nitrogen in mmol/L', loinc: '3094-0', value: 5, unit: 'mmol/L', expect: 'corrected', canonical: [5 * 2.801, 'mg/dL'] },
  { label: 'calcium in mmol/L', loinc: '17861-6', value: 2.5, unit: 'mmol/L', expect: 'corrected', canonical: [2.5 * 4.008, 'mg/dL'] },
  { label: 'albumin in g/L', loinc: '1751-7', value: 35, unit: 'g/L', expect: 'corrected', canonical: [3.5, 'g/dL'] },
  { label: 'sodium in mmol/L, the same in both systems', loinc: '2951-2', value: 140, unit: 'mmol/L', expect: 'accepted', canonical: [140, 'mmol/L'] },
  { label: 'sodium in mEq/L', loinc: '2951-2', value: 140, unit: 'mEq/L', expect: 'corrected', canonical: [140, 'mmol/L'] },
  { label: 'leukocytes per uL', loinc: '6690-2', value: 7500, unit: '/uL', expect: 'corrected', canonical: [7.5, '10*3/uL'] },
  { label: 'platelets in 10^9/L', loinc: '777-3', value: 250, unit: '10^9/L', expect: 'corrected', canonical: [250, '10*3/uL'] },
  { label: 'HbA1c in IFCC mmol/mol', loinc: '4548-4', value: 48, unit: 'mmol/mol', expect: 'corrected', canonical: [48 * 0.09148 + 2.152, '%'] },
  { label: 'troponin in ng/L', loinc: '10839-9', value: 40, unit: 'ng/L', expect: 'corrected', canonical: [0.04, 'ng/mL'] },
  { label: 'glucose at the top of its range', loinc: '2345-7', value: 3000, unit: 'mg/dL', expect: 'accepted', canonical: [3000, 'mg/dL'] },
  { label: 'glucose just above its range', loinc: '2345-7', value: 3000.000001, unit: 'mg/dL', expect: 'impossible_value' },
  { label: 'glucose above its range once converted', loinc: '2345-7', value: 200, unit: 'mmol/L', expect: 'impossible_value' },
  { label: 'glucose of zero', loinc: '2345-7', value: 0, unit: 'mg/dL', expect: 'impossible_value' },
  { label: 'negative glucose', loinc: '2345-7', value: -12, unit: 'mg/dL', expect: 'impossible_value' },
  { label: 'infinite glucose', loinc: '2345-7', value: Number.POSITIVE_INFINITY, unit: 'mg/dL', expect: 'impossible_value' },
  { label: 'sodium at the bottom of its range', loinc: '2951-2', value: 80, unit: 'mmol/L', expect: 'accepted', canonical: [80, 'mmol/L'] },
  { label: 'sodium just below its range', loinc: '2951-2', value: 79.999, unit: 'mmol/L', expect: 'impossible_value' },
  { label: 'sodium at the top of its range', loinc: '2951-2', value: 200, unit: 'mmol/L', expect: 'accepted', canonical: [200, 'mmol/L'] },
  { label: 'sodium just above its range', loinc: '2951-2', value: 200.001, unit: 'mmol/L', expect: 'impossible_value' },
  { label: 'troponin of zero (below detection)', loinc: '10839-9', value: 0, unit: 'ng/mL', expect: 'accepted', canonical: [0, 'ng/mL'] },
  { label: 'glucose in a unit glucose is never sent in', loinc: '2345-7', value: 5, unit: 'g/L', expect: 'unknown_unit' },
  { label: 'glucose without a unit', loinc: '2345-7', value: 95, unit: null, expect: 'unknown_unit' },
  { label: 'a LOINC code not in the catalogue', loinc: '99999-9', value: 5, unit: 'mg/dL', expect: 'unknown_loinc' },
  { label: 'a LOINC code not in the catalogue, without a value', loinc: '12345-0', value: Number.NaN, unit: null, expect: 'unknown_loinc' },
  { label: 'a code that is not LOINC-shaped', loinc: 'GLU', value: 95, unit: 'mg/dL', expect: 'invalid_loinc' },
  { label: 'a result without a value', loinc: '2345-7', value: Number.NaN, unit: 'mg/dL', expect: 'accepted', canonical: [null, null] },
  { label: 'a result without a value, in an odd unit', loinc: '2345-7', value: Number.NaN, unit: 'furlongs', expect: 'accepted', canonical: [null, null] },
  {
    label: 'observed at the last instant of the ingest date',
    loinc: '2345-7',
    value: 95,
    unit: 'mg/dL',
    at: END - 1,
    expect: 'accepted',
    canonical: [95, 'mg/dL'],
  },
  { label: 'observed after the ingest date', loinc: '2345-7', value: 95, unit: 'mg/dL', at: END, expect: 'accepted', canonical: [95, 'mg/dL'] },
  {
    label: 'observed a year after the ingest date',
    loinc: '2345-7',
    value: 95,
    unit: 'mg/dL',
    at: END + 365 * DAY,
    expect: 'accepted',
    canonical: [95, 'mg/dL'],
  },
  { label: 'observed on 1900-01-01', loinc: '2345-7', value: 95, unit: 'mg/dL', at: YEAR_1900, expect: 'accepted', canonical: [95, 'mg/dL'] },
  { label: 'observed before 1900', loinc: '2345-7', value: 95, unit: 'mg/dL', at: YEAR_1900 - 1, expect: 'implausible_observed_at' },
];

function labTable(cases: LabCase[]): Table {
  return new Table({
    lab_id: utf8Vector(cases.map((_, i) => `LAB${i}`)),
    patient_id: utf8Vector(cases.map((_, i) => `MRN${i % 3}`)),
    encounter_id: utf8Vector(cases.map(() => 'E1')),
    loinc: utf8Vector(cases.map((c) => c.loinc)),
    value: float64Vector(Float64Array.from(cases, (c) => c.value)),
    unit: utf8Vector(cases.map((c) => c.unit)),
    observed_at: times(cases.map((c) => c.at ?? NOON_BEFORE)),
    abnormal_flag: utf8Vector(cases.map(() => null)),
  });
}

test('each lab result is accepted, converted to the canonical unit or rejected with the reason its rule gives', (t) => {
  const n = normalizeLabResults(labTable(LAB_CASES), ctx('lab_results'));
  const value = floats(n, 'value');
  const unit = strings(n, 'unit');
  LAB_CASES.forEach((c, i) => {
    t.is(verdict(n, i), c.expect, c.label);
    if (c.expect === 'accepted' || c.expect === 'corrected') {
      const [expectedValue, expectedUnit] = c.canonical!;
      if (expectedValue === null) t.true(Number.isNaN(value[i]!), c.label);
      else t.true(closeTo(value[i]!, expectedValue), `${c.label}: ${value[i]} vs ${expectedValue}`);
      t.is(unit[i], expectedUnit, c.label);
    } else {
      t.is(c.canonical, undefined, c.label);
    }
  });
  // The exact factors: 88.42 umol/L is exactly 1 mg/dL, and 123 g/L exactly 12.3 g/dL.
  t.is(value[LAB_CASES.findIndex((c) => c.label === 'creatinine in umol/L')], 1);
  t.is(value[LAB_CASES.findIndex((c) => c.label === 'hemoglobin in g/L')], 12.3);
  // Times are shifted by the patient's offset; rejects carry the pseudonym.
  const observed = floats(n, 'observed_at');
  t.is(observed[0]! - NOON_BEFORE, pseudonymizer.patient('MRN0').shiftDays * DAY);
  t.true(n.patientKeys.every((k) => k !== null && /^p[0-9a-f]{24}$/.test(k)));
});

test('every LOINC code the generator writes is in the catalogue, in the generator unit, with its alternate unit converting back', (t) => {
  for (const spec of Object.values(LABS)) {
    const analyte = LAB_CATALOG.get(spec.loinc);
    t.truthy(analyte, spec.loinc);
    t.is(analyte!.unit, spec.unit, spec.loinc);
    t.is(resolveUnit(spec.loinc, spec.unit).kind, 'canonical', spec.loinc);
    if (!spec.alternate) continue;
    const outcome = resolveUnit(spec.loinc, spec.alternate.unit);
    if (outcome.kind !== 'converted') return t.fail(`${spec.loinc} ${spec.alternate.unit} is ${outcome.kind}`);
    for (const x of [0.5, 1, 7.3, 140]) t.true(Math.abs(convert(outcome.conversion, x * spec.alternate.factor) - x) <= 1e-12 * x, `${spec.loinc} ${x}`);
  }
  // Every catalogue code is a real LOINC code as far as its mod-10 check digit can tell.
  for (const code of LAB_CATALOG.keys()) {
    const [body, check] = code.split('-') as [string, string];
    t.is(loincCheckDigit(body), Number(check), code);
  }
  t.is(resolveUnit('99999-9', 'mg/dL').kind, 'unknown_loinc');
});

/** LOINC's mod-10 check digit of the part before the dash (12345 -> 5, LOINC's own example). */
function loincCheckDigit(body: string): number {
  const digits = [...body].reverse();
  const doubled = digits
    .filter((_, i) => i % 2 === 0)
    .reverse()
    .join('');
  const rest = digits
    .filter((_, i) => i % 2 === 1)
    .reverse()
    .join('');
  const sum = [...`${rest}${String(Number(doubled) * 2)}`].reduce((s, d) => s + Number(d), 0);
  return (10 - (sum % 10)) % 10;
}

interface EncounterCase {
  label: string;
  admit: number;
  discharge: number;
  dx: string;
  expect: string;
  dxOut?: string;
}

const ENCOUNTER_CASES: EncounterCase[] = [
  { label: 'a closed stay with a dotted code', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'E11.9', expect: 'accepted', dxOut: 'E119' },
  { label: 'a dotless lower-case code', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: ' e119 ', expect: 'accepted', dxOut: 'E119' },
  { label: 'a seven-character code', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'S72.001A', expect: 'accepted', dxOut: 'S72001A' },
  { label: 'a category with a letter in third place', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'C4A.0', expect: 'accepted', dxOut: 'C4A0' },
  { label: 'a well-formed code that is in no release', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'E11.99Z', expect: 'accepted', dxOut: 'E1199Z' },
  { label: 'an open stay', admit: START - 4 * DAY, discharge: Number.NaN, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  { label: 'discharged before admission', admit: START - 4 * DAY, discharge: START - 5 * DAY, dx: 'I50.9', expect: 'discharge_before_admission' },
  { label: 'a stay of exactly 365 days', admit: START - 366 * DAY, discharge: START - DAY, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  { label: 'a stay of 365 days and a millisecond', admit: START - 366 * DAY, discharge: START - DAY + 1, dx: 'I50.9', expect: 'implausible_length_of_stay' },
  { label: 'admitted on 1900-01-01', admit: YEAR_1900, discharge: YEAR_1900 + DAY, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  { label: 'admitted before 1900', admit: YEAR_1900 - 1, discharge: YEAR_1900 + DAY, dx: 'I50.9', expect: 'implausible_admit_time' },
  { label: 'admitted at the last instant of the ingest date', admit: END - 1, discharge: Number.NaN, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  // Times are not judged against the ingest date (docs/data-contract.md): a stay sent on its
  // admission day with its discharge, an evening discharge that is the next day in UTC, a re-export.
  { label: 'admitted after the ingest date', admit: END, discharge: Number.NaN, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  {
    label: 'sent on its admission day with an evening discharge that is the next day in UTC',
    admit: START + 10 * HOUR,
    discharge: END + 2 * HOUR,
    dx: 'I50.9',
    expect: 'accepted',
    dxOut: 'I509',
  },
  { label: 'discharged two years after the ingest date', admit: END + 700 * DAY, discharge: END + 730 * DAY, dx: 'I50.9', expect: 'accepted', dxOut: 'I509' },
  { label: 'a garbled code', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'XX.Y', expect: 'invalid_primary_dx' },
  { label: 'an ICD-9 code', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: '250.00', expect: 'invalid_primary_dx' },
  { label: 'a dot in the wrong place', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'E1.19', expect: 'invalid_primary_dx' },
  { label: 'a code cut short', admit: START - 4 * DAY, discharge: NOON_BEFORE, dx: 'E1', expect: 'invalid_primary_dx' },
];

test('each encounter is accepted or rejected with the reason its rule gives, and codes are written upper case without the dot', (t) => {
  const cases = ENCOUNTER_CASES;
  const table = new Table({
    encounter_id: utf8Vector(cases.map((_, i) => `E${i}`)),
    patient_id: utf8Vector(cases.map(() => 'MRN1')),
    encounter_class: utf8Vector(cases.map(() => 'inpatient')),
    admit_time: times(cases.map((c) => c.admit)),
    discharge_time: times(cases.map((c) => c.discharge)),
    primary_dx: utf8Vector(cases.map((c) => c.dx)),
    discharge_disposition: utf8Vector(cases.map((c) => (Number.isNaN(c.discharge) ? null : 'home'))),
    facility_id: utf8Vector(cases.map(() => 'FAC01')),
    payer: utf8Vector(cases.map(() => 'medicare')),
  });
  const n = normalizeEncounters(table, ctx('encounters'));
  const dx = strings(n, 'primary_dx');
  cases.forEach((c, i) => {
    t.is(verdict(n, i), c.expect, c.label);
    if (c.dxOut) t.is(dx[i], c.dxOut, c.label);
  });
  // Days until the discharge is past, counted from the ingest date on the unshifted times.
  const lag = values(n, 'discharge_lag_days') as Int32Array;
  const lagOf = (label: string) => lag[cases.findIndex((c) => c.label === label)];
  t.is(lagOf('a closed stay with a dotted code'), 0);
  t.is(lagOf('sent on its admission day with an evening discharge that is the next day in UTC'), 2);
  t.is(lagOf('discharged two years after the ingest date'), 732);
  // Length of stay survives the date shift exactly.
  const admit = floats(n, 'admit_time');
  const discharge = floats(n, 'discharge_time');
  t.is(discharge[7]! - admit[7]!, 365 * DAY);
  t.is(admit[0]! - cases[0]!.admit, pseudonymizer.patient('MRN1').shiftDays * DAY);
});

test('each diagnosis is accepted or rejected with the reason its rule gives', (t) => {
  const cases: { code: string; rank: number; encounter: string | null; expect: string; out?: string }[] = [
    { code: 'E11.9', rank: 1, encounter: 'E1', expect: 'accepted', out: 'E119' },
    { code: ' i50.9 ', rank: 2, encounter: 'E1', expect: 'accepted', out: 'I509' },
    { code: 'N1830', rank: 3, encounter: 'E1', expect: 'accepted', out: 'N1830' },
    { code: 'Z99.89X', rank: 4, encounter: 'E1', expect: 'accepted', out: 'Z9989X' },
    { code: 'XX.Y', rank: 5, encounter: 'E1', expect: 'invalid_icd10' },
    { code: '428.0', rank: 6, encounter: 'E1', expect: 'invalid_icd10' },
    { code: 'E11..9', rank: 7, encounter: 'E1', expect: 'invalid_icd10' },
    { code: 'E11.9', rank: 0, encounter: 'E2', expect: 'invalid_dx_rank' },
    { code: 'E11.9', rank: 1, encounter: null, expect: 'missing_encounter_id' },
  ];
  const table = new Table({
    encounter_id: utf8Vector(cases.map((c) => c.encounter)),
    patient_id: utf8Vector(cases.map(() => 'MRN2')),
    icd10: utf8Vector(cases.map((c) => c.code)),
    dx_rank: int32Vector(Int32Array.from(cases, (c) => c.rank)),
  });
  const n = normalizeDiagnoses(table, ctx('diagnoses'));
  const icd = strings(n, 'icd10');
  cases.forEach((c, i) => {
    t.is(verdict(n, i), c.expect, c.code);
    if (c.out) t.is(icd[i], c.out, c.code);
  });
});

test('each patient is accepted or rejected by age, and ages over 89 read as 90', (t) => {
  const ingestDay = START / DAY;
  const cases: { label: string; birthDay: number; expect: string }[] = [
    { label: 'aged 50', birthDay: ingestDay - 50 * 365, expect: 'accepted' },
    { label: 'aged 95', birthDay: ingestDay - 95 * 365, expect: 'accepted' },
    { label: 'aged just under 125', birthDay: ingestDay - Math.floor(125 * 365.2425), expect: 'accepted' },
    { label: 'aged just over 125', birthDay: ingestDay - Math.floor(125 * 365.2425) - 1, expect: 'implausible_birth_date' },
    { label: 'aged 140', birthDay: ingestDay - 140 * 366, expect: 'implausible_birth_date' },
    { label: 'born on the ingest date', birthDay: ingestDay, expect: 'accepted' },
    { label: 'born after the ingest date', birthDay: ingestDay + 1, expect: 'implausible_birth_date' },
    { label: 'without a birth date', birthDay: NULL_DAY, expect: 'missing_birth_date' },
  ];
  const text = (value: string | null) => utf8Vector(cases.map(() => value));
  const table = new Table({
    patient_id: utf8Vector(cases.map((_, i) => `MRN${i}`)),
    first_name: text('Ann'),
    last_name: text('Lee'),
    birth_date: date32Vector(Int32Array.from(cases, (c) => c.birthDay)),
    sex: text('F'),
    race: text('white'),
    ethnicity: text('nonhispanic'),
    zip: text('02139'),
    ssn: text(null),
    phone: text(null),
    email: text(null),
  });
  const n = normalizePatients(table, ctx('patients'));
  cases.forEach((c, i) => t.is(verdict(n, i), c.expect, c.label));
  const birth = values(n, 'birth_date') as Int32Array;
  const shift = (i: number) => pseudonymizer.patient(`MRN${i}`).shiftDays;
  t.is(birth[0], cases[0]!.birthDay + shift(0));
  t.is(birth[1], ingestDay - Math.ceil(90 * 365.2425) + shift(1));
  t.deepEqual(
    n.columns.map((c) => c.name),
    ['patient_key', 'birth_date', 'sex', 'race', 'ethnicity', 'zip3', 'ingest_date', 'source_file'],
  );
});

const PSEUDONYM_KEY = { id: 'test-key', secret: new Uint8Array(SECRET) };
const request = (table: RawTable, bytes: Uint8Array, fileName = 'hand-built.parquet', ingestDate = INGEST_DATE): CurateRequest => ({
  bytes,
  source: `raw/${table}/ingest_date=${ingestDate}/${fileName}`,
  table,
  ingestDate,
  fileName,
  bucketCount: 4,
  pseudonymKey: PSEUDONYM_KEY,
});

test('an int64 value column widens to float64, and a utf8 one quarantines the file with a message naming file and column', (t) => {
  const base = labTable(LAB_CASES.slice(0, 1));
  const withValue = (value: Vector) =>
    new Table(Object.fromEntries(base.schema.fields.map((f) => [f.name, f.name === 'value' ? value : base.getChild(f.name)!])));
  const ok = curateFile(request('lab_results', writeParquet(withValue(int64Vector(Float64Array.of(95))))));
  if (ok.kind !== 'curated') return t.fail(ok.reason);
  t.deepEqual([ok.rowsIn, ok.accepted, ok.rejected], [1, 1, 0]);
  t.is(bucketTable(ok, 0).getChild('value')!.get(0), 95);

  const bad = curateFile(request('lab_results', writeParquet(withValue(utf8Vector(['95'])))));
  if (bad.kind !== 'quarantine') return t.fail('a utf8 value column was curated');
  t.is(bad.reasonType, 'SchemaMismatchError');
  t.true(bad.reason.includes('raw/lab_results/ingest_date=2025-03-10/hand-built.parquet') && bad.reason.includes('"value"'), bad.reason);
});

test('curating a messy generated lake rejects exactly the injected impossible and unknown-code rows and the in-file duplicates', async (t) => {
  const knobs = {
    ...NO_MESSINESS,
    alternateUnitRate: 0.2,
    impossibleRate: 0.02,
    unknownCodeRate: 0.02,
    duplicateRate: 0.02,
    correctionRate: 0.05,
    emptyFileRate: 0.1,
    mixedFileFormats: true,
    corrupt: true,
  };
  const { files, stats } = await generate({ patients: 500, days: 10, seed: 8, messiness: knobs });
  const m = stats.messiness;
  const perTable = () => ({ patients: 0, encounters: 0, diagnoses: 0, lab_results: 0 });
  const rejected = perTable();
  const corrected = perTable();
  const reasons: Record<RawTable, Record<string, number>> = { patients: {}, encounters: {}, diagnoses: {}, lab_results: {} };
  // From the raw rows themselves: duplicate pairs of an injected (X-key) row, whose two copies are both rejected
  // for what they are; and duplicate pairs of an alternate-unit row, one copy corrected, the other rejected.
  const dupOfInjected = perTable();
  let dupOfAlternate = 0;
  const alternateUnits = new Set(Object.values(LABS).flatMap((s) => (s.alternate ? [`${s.loinc} ${s.alternate.unit}`] : [])));
  const quarantined: string[] = [];
  let canonicalUnits = 0;

  for (const file of files) {
    if (file.kind !== 'raw') continue;
    const outcome = curateFile(request(file.table, encodeFile(file), file.fileName, file.ingestDate));
    if (outcome.kind === 'quarantine') {
      quarantined.push(file.corruption ?? file.key);
      continue;
    }
    rejected[file.table] += outcome.rejected;
    corrected[file.table] += outcome.corrected;
    for (const [reason, count] of Object.entries(outcome.rejectReasons)) reasons[file.table][reason] = (reasons[file.table][reason] ?? 0) + count;
    t.is(outcome.rowsIn, outcome.accepted + outcome.corrected + outcome.rejected);

    const rows = file.data.toArray().map((r) => JSON.stringify(r));
    const keyColumn = file.data.getChild(RAW_PRIMARY_KEYS[file.table][0]!)!;
    for (let i = 1; i < rows.length; i++) {
      if (rows[i] !== rows[i - 1]) continue;
      if (String(keyColumn.get(i)).endsWith('X')) dupOfInjected[file.table]++;
      else if (
        file.table === 'lab_results' &&
        alternateUnits.has(`${String(file.data.getChild('loinc')!.get(i))} ${String(file.data.getChild('unit')!.get(i))}`)
      )
        dupOfAlternate++;
    }
    if (file.table === 'lab_results') {
      for (let b = 0; b < outcome.buckets.length; b++) {
        const curated = bucketTable(outcome, b);
        const [loinc, unit, value] = ['loinc', 'unit', 'value'].map((name) => curated.getChild(name)!);
        for (let i = 0; i < curated.numRows; i++) {
          if (value!.get(i) === null) continue;
          t.is(unit!.get(i), LAB_CATALOG.get(loinc!.get(i) as string)!.unit);
          canonicalUnits++;
        }
      }
    }
  }

  t.deepEqual(quarantined.sort(), ['truncated', 'wrong-type']);
  const impossible = { ...m.impossible, diagnoses: 0 };
  const unknown = { ...m.unknownCodes, patients: 0, encounters: 0 };
  for (const table of RAW_TABLES) {
    t.is(rejected[table], impossible[table] + unknown[table] + m.duplicates[table], table);
    t.true(m.duplicates[table] > 0, table);
  }
  const dups = (table: RawTable) => m.duplicates[table] - dupOfInjected[table];
  t.deepEqual(reasons.patients, { implausible_birth_date: m.impossible.patients + dupOfInjected.patients, duplicate_key_in_file: dups('patients') });
  t.deepEqual(reasons.encounters, {
    discharge_before_admission: m.impossible.encounters + dupOfInjected.encounters,
    duplicate_key_in_file: dups('encounters'),
  });
  t.deepEqual(reasons.diagnoses, { invalid_icd10: m.unknownCodes.diagnoses, duplicate_key_in_file: dups('diagnoses') });
  t.deepEqual(reasons.lab_results, {
    impossible_value: m.impossible.lab_results + dupOfInjected.lab_results,
    unknown_loinc: m.unknownCodes.lab_results,
    duplicate_key_in_file: dups('lab_results'),
  });
  t.is(dupOfInjected.diagnoses, 0, 'unknown-code rows are never duplicated');
  t.true(m.impossible.patients > 0 && m.impossible.encounters > 0 && m.unknownCodes.diagnoses > 0 && m.unknownCodes.lab_results > 0, JSON.stringify(m));
  t.deepEqual(corrected, { patients: 0, encounters: 0, diagnoses: 0, lab_results: m.alternateUnits - dupOfAlternate });
  t.true(m.alternateUnits > 1000 && canonicalUnits > 10_000);
});
