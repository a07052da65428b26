/**
 * The per-bucket feature build on hand-made curated tables: golden values for one patient's
 * stays computed by hand, deduplication across ingest days, the follow-up rule, and the proof of
 * no leakage: events planted after a discharge (a lab, a diagnosis on a later visit, a later
 * stay) change no feature of the index stay (a readmission changes its label, as it must).
 */
import test from 'ava';
import type { Table } from 'apache-arrow';
import { NULL_DAY, type CuratedColumn, toTable } from '../../activities/ingest/columns.js';
import type { BucketInputs } from '../../activities/features/bucket-data.js';
import { dedupeTable } from '../../activities/features/read-bucket.js';
import { buildReadmissionFeatures, civilDate, isFollowedUp, wholeYears, type FeatureFrame } from '../../activities/features/readmission.js';
import { NUMERIC_FEATURES } from '../../activities/features/schema.js';
import { MAX_SHIFT_DAYS } from '../../activities/ingest/pseudonymizer.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 5, 1, 8); // 2024-06-01 08:00, admission of the index stay
const dayOf = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY);

const str = (name: string, values: (string | null)[]): CuratedColumn => ({ name, kind: 'string', values });
const ts = (name: string, values: number[]): CuratedColumn => ({ name, kind: 'timestamp', values: Float64Array.from(values) });

interface Lake {
  patients: [key: string, birthIso: string, sex: string, race: string | null][];
  encounters: [
    id: string,
    key: string,
    cls: string,
    admit: number,
    discharge: number,
    dx: string,
    disposition: string | null,
    payer: string | null,
    ingest?: string,
  ][];
  diagnoses: [enc: string, key: string, icd10: string][];
  labs: [id: string, key: string, loinc: string, value: number | null, unit: string, at: number][];
}

function lineage(n: number, ingest: (string | undefined)[] = []): CuratedColumn[] {
  return [
    str(
      'ingest_date',
      Array.from({ length: n }, (_, i) => ingest[i] ?? '2024-09-01'),
    ),
    str('source_file', new Array<string>(n).fill('a.parquet')),
  ];
}

function tablesOf(l: Lake): { patients: Table; encounters: Table; diagnoses: Table; labs: Table } {
  const e = l.encounters;
  return {
    patients: toTable([
      str(
        'patient_key',
        l.patients.map((p) => p[0]),
      ),
      { name: 'birth_date', kind: 'date', values: Int32Array.from(l.patients, (p) => (p[1] ? dayOf(p[1]) : NULL_DAY)) },
      str(
        'sex',
        l.patients.map((p) => p[2]),
      ),
      str(
        'race',
        l.patients.map((p) => p[3]),
      ),
      str(
        'ethnicity',
        l.patients.map(() => 'nonhispanic'),
      ),
      ...lineage(l.patients.length),
    ]),
    encounters: toTable([
      str(
        'encounter_id',
        e.map((x) => x[0]),
      ),
      str(
        'patient_key',
        e.map((x) => x[1]),
      ),
      str(
        'encounter_class',
        e.map((x) => x[2]),
      ),
      ts(
        'admit_time',
        e.map((x) => x[3]),
      ),
      ts(
        'discharge_time',
        e.map((x) => x[4]),
      ),
      str(
        'primary_dx',
        e.map((x) => x[5]),
      ),
      str(
        'discharge_disposition',
        e.map((x) => x[6]),
      ),
      str(
        'facility_id',
        e.map(() => 'FAC01'),
      ),
      str(
        'payer',
        e.map((x) => x[7]),
      ),
      ...lineage(
        e.length,
        e.map((x) => x[8]),
      ),
    ]),
    diagnoses: toTable([
      str(
        'encounter_id',
        l.diagnoses.map((d) => d[0]),
      ),
      str(
        'patient_key',
        l.diagnoses.map((d) => d[1]),
      ),
      str(
        'icd10',
        l.diagnoses.map((d) => d[2]),
      ),
      { name: 'dx_rank', kind: 'int', values: Int32Array.from(l.diagnoses, (_, i) => i + 1) },
      ...lineage(l.diagnoses.length),
    ]),
    labs: toTable([
      str(
        'lab_id',
        l.labs.map((x) => x[0]),
      ),
      str(
        'patient_key',
        l.labs.map((x) => x[1]),
      ),
      str(
        'encounter_id',
        l.labs.map(() => null),
      ),
      str(
        'loinc',
        l.labs.map((x) => x[2]),
      ),
      { name: 'value', kind: 'float', values: Float64Array.from(l.labs, (x) => x[3] ?? Number.NaN) },
      str(
        'unit',
        l.labs.map((x) => x[4]),
      ),
      ts(
        'observed_at',
        l.labs.map((x) => x[5]),
      ),
      str(
        'abnormal_flag',
        l.labs.map(() => null),
      ),
      ...lineage(l.labs.length),
    ]),
  };
}

function inputsOf(l: Lake): BucketInputs {
  const t = tablesOf(l);
  return {
    patients: dedupeTable('patients', [t.patients]),
    encounters: dedupeTable('encounters', [t.encounters]),
    diagnoses: dedupeTable('diagnoses', [t.diagnoses]),
    labs: dedupeTable('lab_results', [t.labs]),
  };
}

const FOLLOWED = { dataEndMs: Date.UTC(2025, 0, 1) };

function build(l: Lake, followUp = FOLLOWED): FeatureFrame {
  return buildReadmissionFeatures(inputsOf(l), followUp);
}

/** Row of an encounter, every column by name. */
function row(frame: FeatureFrame, encounterId: string): Record<string, unknown> {
  const ids = frame.columns.find((c) => c.name === 'encounter_id')!.values as string[];
  const i = ids.indexOf(encounterId);
  if (i < 0) throw new Error(`no row for ${encounterId}`);
  return Object.fromEntries(frame.columns.map((c) => [c.name, c.values[i]]));
}

/** One patient with a year of history before the index stay E5 (2024-06-01 08:00 to 06-04 20:00). */
function baseLake(): Lake {
  return {
    patients: [
      ['pA', '1950-06-02', 'F', 'white'],
      ['pB', '1980-01-01', 'M', null],
    ],
    encounters: [
      ['E1', 'pA', 'inpatient', T0 - 400 * DAY, T0 - 398 * DAY, 'J18.9', 'home', 'medicare'], // over 365 days before: not prior
      ['E2', 'pA', 'inpatient', T0 - 200 * DAY, T0 - 195 * DAY, 'I50.9', 'home', 'medicare'],
      ['E3', 'pA', 'emergency', T0 - 100 * DAY, T0 - 100 * DAY + 5 * HOUR, 'R07.9', 'home', 'medicare'],
      ['E4', 'pA', 'emergency', T0 - 190 * DAY, T0 - 190 * DAY + 5 * HOUR, 'R07.9', 'home', 'medicare'], // over 180 days: not prior
      ['E5', 'pA', 'inpatient', T0, T0 + 3.5 * DAY, 'I21.4', 'snf', 'medicare'],
      ['E6', 'pA', 'outpatient', T0 - 30 * DAY, T0 - 30 * DAY + HOUR, 'E11.9', 'home', 'medicare'],
      ['F1', 'pB', 'inpatient', T0, T0 + DAY, 'Z51.11', 'expired', 'commercial'], // expired: not an index stay
    ],
    diagnoses: [
      ['E2', 'pA', 'I509'],
      ['E2', 'pA', 'E1122'], // heart failure (1) + complicated diabetes (2), 195 days before
      ['E1', 'pA', 'C787'], // metastatic, but 398 days before: outside the look-back
      ['E5', 'pA', 'I214'],
      ['E5', 'pA', 'I10'],
      ['E6', 'pA', 'E119'], // uncomplicated diabetes, superseded by the complicated one
    ],
    labs: [
      ['L1', 'pA', '2951-2', 131, 'mmol/L', T0 + 2 * HOUR],
      ['L2', 'pA', '2951-2', 137, 'mmol/L', T0 + 1 * DAY],
      ['L3', 'pA', '2951-2', 134, 'mmol/L', T0 + 3 * DAY],
      ['L4', 'pA', '718-7', 9.5, 'g/dL', T0 + 2 * HOUR],
      ['L5', 'pA', '718-7', null, 'g/dL', T0 + 3 * HOUR], // no value: not a measurement
      ['L6', 'pA', '2951-2', 120, 'mmol/L', T0 - 2 * HOUR], // before admission: not this stay's
      ['L7', 'pA', '99999-9', 5, 'mg/dL', T0 + HOUR], // not in the catalogue
    ],
  };
}

const lab = (frame: FeatureFrame, encounterId: string, name: string) => {
  const r = row(frame, encounterId);
  return ['last', 'min', 'max', 'mean', 'count'].map((stat) => r[`lab_${name}_${stat}`]);
};

test("one patient's index stays have the hand-computed features", (t) => {
  const frame = build(baseLake());
  t.is(frame.rows, 3, 'E1, E2 and E5; not the visits, not the stay that ended in death');
  t.deepEqual(frame.columns.find((c) => c.name === 'encounter_id')!.values as string[], ['E1', 'E2', 'E5'], 'in patient, then admission order');
  const e5 = row(frame, 'E5');
  t.like(e5, {
    patient_key: 'pA',
    admit_time: T0,
    discharge_time: T0 + 3.5 * DAY,
    label: 0,
    censored: 0,
    age: 73, // born 1950-06-02, admitted 2024-06-01: the day before the 74th birthday
    los_days: 3.5,
    prior_inpatient_365d: 1,
    prior_emergency_180d: 1,
    // I21 (myocardial infarction, 1) + I50 (heart failure, 1) and E11.22 (complicated diabetes, 2) within a
    // year; E11.9 is superseded by E11.22; C78.7 ended 398 days before and does not count.
    charlson_index: 4,
    sex: 'F',
    race: 'white',
    ethnicity: 'nonhispanic',
    discharge_disposition: 'snf',
    payer: 'medicare',
    dx_chapter: 'circulatory',
  });
  t.deepEqual(lab(frame, 'E5', 'sodium'), [134, 131, 137, 134, 3], "the result before admission is not the stay's");
  t.deepEqual(lab(frame, 'E5', 'hemoglobin'), [9.5, 9.5, 9.5, 9.5, 1], 'a result without a value is not a measurement');
  t.deepEqual(lab(frame, 'E5', 'glucose'), [Number.NaN, Number.NaN, Number.NaN, Number.NaN, 0]);
  // E2: E1 (admitted 200 days before) is a prior stay, and its metastatic code (6) ended within the year.
  t.like(row(frame, 'E2'), { label: 0, prior_inpatient_365d: 1, prior_emergency_180d: 0, charlson_index: 9, dx_chapter: 'circulatory', los_days: 5 });
  t.like(row(frame, 'E1'), { label: 0, charlson_index: 6, dx_chapter: 'respiratory', age: 72 });
  t.is(frame.positives, 0);
});

/** Everything that happens after E5's discharge: a lab, a visit with a diagnosis, an emergency, a readmission. */
function plantAfterDischarge(l: Lake): Lake {
  const d = T0 + 3.5 * DAY;
  return {
    ...l,
    encounters: [
      ...l.encounters,
      ['E7', 'pA', 'inpatient', d + 10 * DAY, d + 14 * DAY, 'J44.1', 'home', 'medicaid'],
      ['E8', 'pA', 'outpatient', d + 5 * DAY, d + 5 * DAY + HOUR, 'C78.7', 'home', 'medicaid'],
      ['E9', 'pA', 'emergency', d + 2 * DAY, d + 2 * DAY + 4 * HOUR, 'R55', 'home', 'medicaid'],
    ],
    diagnoses: [...l.diagnoses, ['E8', 'pA', 'C787'], ['E7', 'pA', 'B20'], ['E9', 'pA', 'G459']],
    labs: [
      ...l.labs,
      ['L8', 'pA', '2951-2', 100, 'mmol/L', d + HOUR], // one hour after discharge
      ['L9', 'pA', '718-7', 4.1, 'g/dL', d + 1], // one millisecond after discharge
      ['L10', 'pA', '2345-7', 400, 'mg/dL', d + 11 * DAY], // during the readmission
    ],
  };
}

const featuresOnly = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'label'));

test('events planted after discharge change no feature of the index stay; a readmission changes only its label', (t) => {
  const before = build(baseLake());
  const after = build(plantAfterDischarge(baseLake()));
  for (const id of ['E1', 'E2', 'E5']) t.deepEqual(featuresOnly(row(after, id)), featuresOnly(row(before, id)), id);
  t.is(row(before, 'E5').label, 0);
  t.is(row(after, 'E5').label, 1, "E7 is admitted 10 days after E5's discharge");
  t.is(row(after, 'E2').label, 0);
  t.is(after.rows, before.rows + 1, 'the readmission is an index stay of its own');
});

test('the same events planted before discharge do change the features: the leakage test can see a leak', (t) => {
  const d = T0 + 3.5 * DAY;
  const base = baseLake();
  const before = build(base);
  const inside = build({
    ...base,
    encounters: [...base.encounters, ['E8', 'pA', 'outpatient', T0 - 20 * DAY, T0 - 20 * DAY + HOUR, 'C78.7', 'home', 'medicaid']],
    labs: [...base.labs, ['L8', 'pA', '2951-2', 100, 'mmol/L', d]], // at the discharge instant: still the stay's
  });
  t.deepEqual(lab(inside, 'E5', 'sodium'), [100, 100, 137, (131 + 137 + 134 + 100) / 4, 4]);
  t.is(row(inside, 'E5').charlson_index, (row(before, 'E5').charlson_index as number) + 6, 'a metastatic tumour 20 days before');
});

test('a lab or diagnosis planted on another patient changes nothing of this one', (t) => {
  const base = baseLake();
  const before = build(base);
  const after = build({ ...base, labs: [...base.labs, ['L8', 'pB', '2951-2', 100, 'mmol/L', T0 + DAY]], diagnoses: [...base.diagnoses, ['F1', 'pB', 'C787']] });
  t.deepEqual(row(after, 'E5'), row(before, 'E5'));
});

test('corrections resolve across ingest days: the latest ingest date wins, then the latest file name', (t) => {
  const base = tablesOf(baseLake());
  const resend = (value: number, ingest: string, file: string) =>
    toTable([
      str('lab_id', ['L2']),
      str('patient_key', ['pA']),
      str('encounter_id', [null]),
      str('loinc', ['2951-2']),
      { name: 'value', kind: 'float', values: Float64Array.of(value) },
      str('unit', ['mmol/L']),
      ts('observed_at', [T0 + DAY]),
      str('abnormal_flag', [null]),
      str('ingest_date', [ingest]),
      str('source_file', [file]),
    ]);
  const inputs = (parts: Table[]): BucketInputs => ({
    patients: dedupeTable('patients', [base.patients]),
    encounters: dedupeTable('encounters', [base.encounters]),
    diagnoses: dedupeTable('diagnoses', [base.diagnoses]),
    labs: dedupeTable('lab_results', [base.labs, ...parts]),
  });
  // L2 was 137 on 2024-09-01 (a.parquet); a later day's 140 wins, and an earlier day's 150 loses.
  const later = buildReadmissionFeatures(inputs([resend(150, '2024-08-30', 'z.parquet'), resend(140, '2024-09-03', 'a.parquet')]), FOLLOWED);
  t.deepEqual(lab(later, 'E5', 'sodium'), [134, 131, 140, (131 + 140 + 134) / 3, 3]);
  // Same day as the original: the later file name wins.
  const sameDay = buildReadmissionFeatures(inputs([resend(141, '2024-09-01', 'b.parquet')]), FOLLOWED);
  t.deepEqual(lab(sameDay, 'E5', 'sodium').slice(2, 3), [141]);
  t.is(sameDay.labRows, 7, 'one winner per lab id');
});

test('follow-up: a stay is labelled once the lake shows 30 days after it, by arrival or by the shift bound', (t) => {
  const end = (iso: string) => ({ dataEndMs: Date.parse(`${iso}T00:00:00Z`) });
  const arrival = dayOf('2025-01-01');
  t.true(isFollowedUp(Date.UTC(2024, 11, 31, 14), arrival, end('2025-01-31')), 'arrived 30 days before the data end');
  t.false(isFollowedUp(Date.UTC(2024, 11, 31, 14), arrival + 1, end('2025-01-31')));
  t.false(isFollowedUp(Date.UTC(2024, 11, 31, 14), -1, end('2025-01-31')), 'arrival unknown, discharge too recent for the bound');
  t.false(isFollowedUp(Date.UTC(2020, 0, 1), arrival, { dataEndMs: Number.NaN }), 'no data end: nothing is followed');
  const dataEnd = end('2025-01-31').dataEndMs;
  const boundary = dataEnd - (30 + MAX_SHIFT_DAYS) * DAY;
  t.true(isFollowedUp(boundary, -1, { dataEndMs: dataEnd }), 'whatever the shift, 30 days after are inside the lake');
  t.false(isFollowedUp(boundary + 1, -1, { dataEndMs: dataEnd }));

  // In a build: every stay arrived 2024-09-01; with the data ending 2024-09-15 E5 is censored,
  // while E1 and E2 (discharged 398 and 195 days before E5's admission) are certified by the bound.
  const frame = build(baseLake(), end('2024-09-15'));
  t.is(row(frame, 'E5').censored, 1);
  t.is(row(frame, 'E2').censored, 0);
  t.is(row(frame, 'E1').censored, 0);
  t.is(frame.censored, 1);
  t.is(frame.labelledPositives, 0);
  t.is(build(baseLake(), end('2024-10-01')).censored, 0, 'arrived 2024-09-01: followed from 2024-10-01');
});

test('the arrival of a stay is the first ingest of its final discharge, not a later re-send or its open version', (t) => {
  const l = baseLake();
  const e5 = l.encounters.find((e) => e[0] === 'E5')!;
  l.encounters.push(['E5', 'pA', 'inpatient', T0, Number.NaN, 'I21.4', null, 'medicare', '2024-06-02']); // first sent open
  l.encounters.push([e5[0], e5[1], e5[2], e5[3], e5[4], e5[5], e5[6], e5[7], '2024-09-20']); // re-sent unchanged later
  const frame = build(l, { dataEndMs: Date.parse('2024-10-01T00:00:00Z') });
  t.is(row(frame, 'E5').censored, 0, 'first closed on 2024-09-01: 30 days shown by 2024-10-01');
  t.is(row(frame, 'E5').discharge_time, T0 + 3.5 * DAY, 'the re-send is the winner and carries the discharge');
});

test('ages are whole calendar years, birthdays on 29 February included, capped at 90', (t) => {
  for (let day = dayOf('1900-01-01'); day < dayOf('2100-01-01'); day += 37) {
    const d = new Date(day * DAY);
    t.is(civilDate(day), d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate());
  }
  t.is(wholeYears(dayOf('2000-02-29'), dayOf('2001-02-28')), 0);
  t.is(wholeYears(dayOf('2000-02-29'), dayOf('2001-03-01')), 1);
  t.is(wholeYears(dayOf('2000-02-29'), dayOf('2004-02-29')), 4);
  const l = baseLake();
  l.patients[0] = ['pA', '1920-01-01', 'F', 'white'];
  t.is(row(build(l), 'E5').age, 90);
});

test('a bucket without encounters gives an empty frame with every column', (t) => {
  const frame = build({ patients: [['pZ', '1970-01-01', 'M', null]], encounters: [], diagnoses: [], labs: [] });
  t.is(frame.rows, 0);
  t.true(NUMERIC_FEATURES.every((name) => frame.columns.some((c) => c.name === name && c.values.length === 0)));
});

test('deduplication by hashed key bytes keeps one winner per key, also when 30-bit hashes collide', (t) => {
  const n = 200_000; // ~19 colliding pairs of 30-bit hashes expected among this many keys
  const resent = 1000;
  const ids = Array.from({ length: n }, (_, i) => `L${(i * 7919).toString(36)}`);
  const first = toTable([str('lab_id', ids), str('ingest_date', new Array<string>(n).fill('2025-01-01')), str('source_file', new Array<string>(n).fill('a'))]);
  const again = toTable([
    str('lab_id', ids.slice(0, resent)),
    str('ingest_date', new Array<string>(resent).fill('2025-01-02')),
    str('source_file', new Array<string>(resent).fill('a')),
  ]);
  const { rows } = dedupeTable('lab_results', [first, again]);
  t.is(rows.length, n);
  t.is(rows.filter((r) => r >= n).length, resent, 'the re-sent rows win');
  t.deepEqual(Array.from(rows.subarray(0, 3)), [resent, resent + 1, resent + 2], 'winners in table order');
});
