import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { FileStore } from '../../activities/io/file-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { type GeneratedFile, type GeneratorInput, type RawFile, writeRawLake } from '../../data-lake/generator/index.js';
import { RAW_TABLES } from '../../data-lake/layout.js';
import { contractSchemas, isPhiField } from '../../schemas/raw.js';
import { generate } from '../helpers/generated.js';

type Row = Record<string, unknown>;
const DAY = 86_400_000;

/** The raw files of a table a reader can take, in landing order (the corrupt mode's unreadable copies left out). */
const rawFiles = (files: GeneratedFile[], table: string) =>
  files
    .filter((f): f is RawFile => f.kind === 'raw' && f.table === table && f.corruption !== 'truncated' && f.corruption !== 'wrong-type')
    .sort((a, b) => (a.ingestDate === b.ingestDate ? (a.fileName < b.fileName ? -1 : 1) : a.ingestDate < b.ingestDate ? -1 : 1));
const rowsOf = (table: Table): Row[] => table.toArray().map((r) => (r as { toJSON(): Row }).toJSON());

/** Last write wins by ingest date, then file name: the contract's rule for re-sent rows. */
function latestByKey(files: RawFile[], key: string): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const f of files) for (const row of rowsOf(f.data)) out.set(row[key] as string, row);
  return out;
}

/** Mann-Whitney AUC by sorting, ties at their mid-rank: independent of the generator's histogram. */
function sortedAuc(scores: number[], labels: number[]): number {
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let rankSum = 0;
  let positives = 0;
  labels.forEach((y, i) => {
    if (y === 1) {
      rankSum += ranks[i]!;
      positives++;
    }
  });
  const negatives = labels.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const PATIENTS = 2000;
const LAKE: GeneratorInput = { patients: PATIENTS, days: 30, seed: 11, patientsPerChunk: 700 };
const lakePromise = generate({ ...LAKE, messiness: { corrupt: true, correctionRate: 0.05 } });

test('every generated raw table has exactly the contract schema of its table, PHI tags included', async (t) => {
  const { files } = await lakePromise;
  for (const file of files) {
    if (file.kind !== 'raw' || file.corruption) continue;
    const expected = contractSchemas[file.table];
    t.deepEqual(
      file.data.schema.fields.map((f) => [f.name, String(f.type), f.nullable, [...f.metadata]]),
      expected.fields.map((f) => [f.name, String(f.type), f.nullable, [...f.metadata]]),
      file.key,
    );
  }
  const phi = (table: keyof typeof contractSchemas) => contractSchemas[table].fields.filter(isPhiField).map((f) => f.name);
  t.deepEqual(phi('patients'), ['patient_id', 'first_name', 'last_name', 'birth_date', 'zip', 'ssn', 'phone', 'email']);
  t.deepEqual(phi('lab_results'), ['patient_id', 'observed_at']);
  t.is(String(contractSchemas.encounters.fields[3]!.type), 'Timestamp<MILLISECOND, UTC>');
});

test('a generated file read back from Parquet keeps the contract types and its values', async (t) => {
  const { files } = await lakePromise;
  for (const table of RAW_TABLES) {
    const file = rawFiles(files, table).find((f) => !f.corruption && f.data.numRows > 0)!;
    const back = readParquet(writeParquet(file.data, file.writeOptions));
    t.deepEqual(
      back.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
      contractSchemas[table].fields.map((f) => `${f.name}:${String(f.type)}`),
    );
    t.deepEqual(rowsOf(back), rowsOf(file.data));
  }
});

test('the same options write byte-identical files and another seed writes different ones', async (t) => {
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), 'carepipe-gen-')));
  try {
    const input: GeneratorInput = { patients: 300, days: 8, seed: 5, patientsPerChunk: 120, messiness: { corrupt: true } };
    const summaries = await Promise.all([
      writeRawLake(new FileStore({ root: dirs[0]! }), input),
      writeRawLake(new FileStore({ root: dirs[1]! }), input),
      writeRawLake(new FileStore({ root: dirs[2]! }), { ...input, seed: 6 }),
    ]);
    const contents = async (root: string) => {
      const store = new FileStore({ root });
      const out = new Map<string, string>();
      for await (const info of store.list('')) out.set(info.key, Buffer.from(await store.get(info.key)).toString('base64'));
      return out;
    };
    const [a, b, c] = await Promise.all(dirs.map(contents));
    t.true(a!.size > 30);
    t.is(a!.size, summaries[0].filesWritten);
    t.deepEqual([...a!.entries()], [...b!.entries()]);
    const differing = [...a!.keys()].filter((key) => c!.has(key) && c!.get(key) !== a!.get(key));
    t.true(differing.length > a!.size / 2, `${differing.length} of ${a!.size} files differ`);
    t.not(summaries[0].bayesAuc, summaries[2].bayesAuc);
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
});

test('the rows do not depend on how patients are grouped into chunks or spread over files', async (t) => {
  const input: GeneratorInput = { patients: 250, days: 6, seed: 3, messiness: { corrupt: false } };
  const [small, large, split] = await Promise.all([
    generate({ ...input, patientsPerChunk: 40 }),
    generate({ ...input, patientsPerChunk: 1000 }),
    generate({ ...input, patientsPerChunk: 1000, filesPerDay: 3 }),
  ]);
  for (const table of RAW_TABLES) {
    const lines = (files: GeneratedFile[]) =>
      rawFiles(files, table)
        .flatMap((f) => rowsOf(f.data).map((r) => `${f.ingestDate} ${JSON.stringify(r)}`))
        .sort();
    t.deepEqual(lines(small.files), lines(large.files), table);
    t.deepEqual(lines(split.files), lines(large.files), table);
  }
  const names = new Set(
    rawFiles(split.files, 'lab_results')
      .filter((f) => f.data.numRows > 0)
      .map((f) => f.fileName),
  );
  t.deepEqual([...names].sort(), ['part-c00000-f00.parquet', 'part-c00000-f01.parquet', 'part-c00000-f02.parquet']);
  t.is(small.stats.bayesAuc, large.stats.bayesAuc);
  t.deepEqual(small.stats.messiness, large.stats.messiness);
});

test('every patient has 1 to 8 encounters and inpatients are older than outpatients', async (t) => {
  const { files, stats } = await lakePromise;
  const encounters = [...latestByKey(rawFiles(files, 'encounters'), 'encounter_id').values()].filter((e) => !(e.encounter_id as string).endsWith('X'));
  const patients = latestByKey(rawFiles(files, 'patients'), 'patient_id');
  const perPatient = new Map<string, number>();
  for (const e of encounters) perPatient.set(e.patient_id as string, (perPatient.get(e.patient_id as string) ?? 0) + 1);
  t.is(perPatient.size, PATIENTS);
  t.true([...perPatient.values()].every((n) => n >= 1 && n <= 8));
  t.true([...perPatient.values()].some((n) => n >= 5));
  t.is([...patients.keys()].filter((id) => !id.endsWith('X')).length, PATIENTS);

  const meanAge = (cls: string) => {
    const ages = encounters
      .filter((e) => e.encounter_class === cls)
      .map((e) => ((e.admit_time as number) - (patients.get(e.patient_id as string)!.birth_date as number)) / (365.25 * DAY));
    return ages.reduce((a, b) => a + b, 0) / ages.length;
  };
  t.true(meanAge('inpatient') > meanAge('outpatient') + 3, `${meanAge('inpatient')} vs ${meanAge('outpatient')}`);
  t.is(
    stats.rows.patients,
    [...rawFiles(files, 'patients')].reduce((n, f) => n + f.data.numRows, 0),
  );
});

test('inpatient stays have a full panel on admission and several labs every stay day', async (t) => {
  const { files } = await lakePromise;
  const encounters = latestByKey(rawFiles(files, 'encounters'), 'encounter_id');
  const labs = latestByKey(rawFiles(files, 'lab_results'), 'lab_id');
  const perEncounter = new Map<string, number>();
  for (const lab of labs.values())
    if (!(lab.lab_id as string).endsWith('X')) perEncounter.set(lab.encounter_id as string, (perEncounter.get(lab.encounter_id as string) ?? 0) + 1);
  let labCount = 0;
  let stayDays = 0;
  for (const e of encounters.values()) {
    if (e.encounter_class !== 'inpatient' || e.discharge_time === null) continue;
    const n = perEncounter.get(e.encounter_id as string) ?? 0;
    t.true(n >= 12, `${e.encounter_id as string} has ${n} labs`);
    labCount += n;
    stayDays += Math.ceil(((e.discharge_time as number) - (e.admit_time as number)) / DAY);
  }
  const perDay = labCount / stayDays;
  t.true(perDay > 8 && perDay < 20, `${perDay} labs per stay day`);
  const missing = [...labs.values()].filter((l) => l.value === null);
  t.true(missing.length > 0 && missing.every((l) => l.unit === null && l.abnormal_flag === null));
  t.true(
    [...labs.values()].some((l) => l.encounter_id === null),
    'some clinic results are not linked to a visit',
  );
  const loincs = new Set([...labs.values()].map((l) => l.loinc));
  t.true(loincs.size >= 20, `${loincs.size} LOINC codes`);
  for (const flag of new Set([...labs.values()].map((l) => l.abnormal_flag)))
    t.true(['L', 'H', 'LL', 'HH', 'N', null].includes((flag ?? null) as string | null));
});

test('every ground-truth label follows the readmission rule on the generated encounters', async (t) => {
  const { files, stats } = await lakePromise;
  const encounters = [...latestByKey(rawFiles(files, 'encounters'), 'encounter_id').values()];
  const admissions = new Map<string, number[]>();
  for (const e of encounters) {
    if (e.encounter_class !== 'inpatient') continue;
    admissions.set(e.patient_id as string, [...(admissions.get(e.patient_id as string) ?? []), e.admit_time as number]);
  }
  const expected = new Map<string, number>();
  for (const e of encounters) {
    if (e.encounter_class !== 'inpatient' || e.discharge_time === null || e.discharge_disposition === 'expired') continue;
    const discharge = e.discharge_time as number;
    const readmitted = (admissions.get(e.patient_id as string) ?? []).some((a) => a > discharge && a - discharge <= 30 * DAY);
    expected.set(e.encounter_id as string, readmitted ? 1 : 0);
  }
  const truth = new Map<string, Row>();
  for (const f of files) if (f.kind === 'ground-truth') for (const row of rowsOf(f.data)) truth.set(row.encounter_id as string, row);
  t.is(truth.size, expected.size);
  t.is(stats.indexStays, expected.size);
  const mismatched = [...expected].filter(([id, label]) => truth.get(id)?.label !== label);
  t.deepEqual(mismatched, []);
  const positives = [...expected.values()].filter((l) => l === 1).length;
  t.is(stats.readmissions, positives);
  t.true(stats.readmissionRate > 0.1 && stats.readmissionRate < 0.2, `rate ${stats.readmissionRate}`);
  t.true(stats.groundTruthKeys.length === 3);
});

test('the Bayes AUC is in a learnable range and equals the AUC recomputed from the ground truth', async (t) => {
  const { files, stats } = await lakePromise;
  const scores: number[] = [];
  const labels: number[] = [];
  const complete: [number[], number[]] = [[], []];
  for (const f of files) {
    if (f.kind !== 'ground-truth') continue;
    for (const row of rowsOf(f.data)) {
      scores.push(row.p_observed as number);
      labels.push(row.label as number);
      t.true((row.p_observed as number) <= (row.p as number));
      if (!row.censored) {
        complete[0].push(row.p_observed as number);
        complete[1].push(row.label as number);
      }
    }
  }
  t.true(Math.abs(sortedAuc(scores, labels) - stats.bayesAuc) < 1e-12);
  t.true(Math.abs(sortedAuc(...complete) - stats.bayesAucComplete) < 1e-12);
  t.true(stats.bayesAuc > 0.68 && stats.bayesAuc < 0.82, `Bayes AUC ${stats.bayesAuc}`);
  t.is(stats.censoredIndexStays, scores.length - complete[0].length);
});

test('identifiers are fake and shaped like the real thing', async (t) => {
  const { files } = await lakePromise;
  const patients = rawFiles(files, 'patients').flatMap((f) => rowsOf(f.data));
  const check = (column: string, pattern: RegExp) => {
    const values = patients.map((p) => p[column]).filter((v): v is string => v !== null);
    t.true(values.length > patients.length / 2, column);
    t.true(
      values.every((v) => pattern.test(v)),
      column,
    );
  };
  check('patient_id', /^MRN\d{8}X?$/);
  check('ssn', /^9\d\d-\d\d-\d{4}$/);
  check('phone', /^\d{3}-555-01\d\d$/);
  check('email', /^[a-z]+\.[a-z]+\d+@example\.com$/);
  check('zip', /^\d{5}$/);
  t.true(patients.every((p) => ['F', 'M', 'U'].includes(p.sex as string)));
});

test("with the timing knobs, a stay sent at admission lands whole on its admission's local date and an evening event on its own", async (t) => {
  const { files, stats } = await generate({
    patients: 400,
    days: 60,
    historyDays: 30,
    seed: 13,
    sentAtAdmissionRate: 0.3,
    eveningRate: 0.3,
    messiness: 'none',
  });
  const dayOf = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;
  const [first, last] = [dayOf(stats.ingestDates.first), dayOf(stats.ingestDates.last)];
  const clamp = (day: number) => Math.min(last, Math.max(first, day));
  const utcDay = (ms: number) => Math.floor(ms / DAY);
  // 00:30 to 04:30 UTC: 19:30 to 23:30 the evening before in New York (UTC-5).
  const isEvening = (ms: number) => ms % DAY >= 0.5 * 3_600_000 && ms % DAY < 4.5 * 3_600_000;
  const rows = (table: string) => rawFiles(files, table).flatMap((f) => rowsOf(f.data).map((row) => ({ day: dayOf(f.ingestDate), row })));

  const counts = { dayAfter: 0, evening: 0, atAdmission: 0, open: 0 };
  const stayDay = new Map<string, number>();
  for (const { day, row } of rows('encounters')) {
    const admit = row.admit_time as number;
    const discharge = row.discharge_time as number | null;
    stayDay.set(row.encounter_id as string, day);
    if (discharge === null) {
      t.is(day, last, 'an open stay is sent on the last ingest date');
      counts.open++;
    } else if (day === clamp(utcDay(discharge) + 1)) counts.dayAfter++;
    else if (isEvening(discharge) && day === clamp(utcDay(discharge) - 1)) counts.evening++;
    else if (day === clamp(utcDay(admit - 5 * 3_600_000))) counts.atAdmission++;
    else t.fail(`${row.encounter_id as string} on day ${day}: admitted ${new Date(admit).toISOString()}, discharged ${new Date(discharge).toISOString()}`);
  }
  t.true(counts.evening > 20 && counts.atAdmission > 100 && counts.dayAfter > counts.atAdmission, JSON.stringify(counts));
  t.true(
    rows('diagnoses').every(({ day, row }) => day === stayDay.get(row.encounter_id as string)),
    'diagnoses come with their stay',
  );

  let eveningLabs = 0;
  let afterTheirDate = 0;
  for (const { day, row } of rows('lab_results')) {
    const observed = row.observed_at as number;
    if (day === clamp(utcDay(observed) + 1)) continue;
    if (isEvening(observed) && day === clamp(utcDay(observed) - 1)) eveningLabs++;
    else if (day === stayDay.get(row.encounter_id as string)) afterTheirDate += observed >= (day + 1) * DAY ? 1 : 0;
    else t.fail(`${row.lab_id as string} on day ${day}, observed ${new Date(observed).toISOString()}`);
  }
  t.true(eveningLabs > 500 && afterTheirDate > 500, `${eveningLabs} evening results, ${afterTheirDate} sent with their stay, after their file's date`);

  // The truth's follow-up: discharge + 30 days before the cutoff, the last ingest date's midnight.
  const discharges = new Map(rows('encounters').map(({ row }) => [row.encounter_id as string, row.discharge_time as number]));
  let censored = 0;
  for (const f of files) {
    if (f.kind !== 'ground-truth') continue;
    for (const row of rowsOf(f.data)) {
      const followed = discharges.get(row.encounter_id as string)! + 30 * DAY < last * DAY;
      t.is(row.censored, !followed, row.encounter_id as string);
      if (!followed) censored++;
    }
  }
  t.true(censored > 5, `${censored} censored`);
});
