/**
 * De-identification, raw -> curated -> features, on the real test stack. Every PHI value the
 * generator wrote is read back from the raw zone; none may appear in any object the pipeline
 * writes outside the PHI zones (raw/ and quarantine/), and every date must have moved by its
 * patient's keyed whole-day offset, so that lengths of stay and days between stays survive exactly.
 *
 * What "appear" means here, and why:
 * - String PHI (patient ids, names, SSNs, phones, e-mails, zips): no string cell of any decoded
 *   Parquet object equals one of them; and the bytes of every object (Parquet or JSON) contain
 *   none of those at least 5 characters long. Curated Parquet is Snappy-compressed, which keeps
 *   literals, so a leaked column shows in the bytes (checked below on a deliberately leaky file).
 *   Shorter names (`Li`, `Kim`) and 5-digit zips are left to the cell check: as bytes they occur by
 *   chance, and the generator's encounter and lab ids are digit runs that contain zip-like numbers.
 * - Birth dates are also searched as ISO text (`1950-03-04`), the form a message or JSON would use.
 * - Dates and times: each curated row is joined to the raw row it came from (by table, ingest date,
 *   file and id) and its times must differ from the raw ones by the patient's offset, a nonzero
 *   whole number of days. A global "no curated instant equals any raw instant" check would be
 *   wrong: morning lab draws of one patient, shifted by whole days, land on other raw mornings.
 */
import test from 'ava';
import { DataType, type Table } from 'apache-arrow';
import { MAX_SHIFT_DAYS, Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { startIngest } from '../../cli/runs.js';
import { CorruptFileError } from '../../core/errors.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { parseRawKey } from '../../data-lake/layout.js';
import { contractSchemas, isPhiField } from '../../schemas/raw.js';
import { taskQueue } from '../../schemas/names.js';
import type { FeaturesResult, IngestSummary } from '../../schemas/workflows.js';
import { featuresWorkflow } from '../../workflows/index.js';
import { listKeys, millis, readTable, strings } from '../helpers/lake-scan.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const DAY_MS = 86_400_000;
const BUCKETS = 8;
let env: PipelineEnv;
let store: ObjectStore;
let generation: GenerationSummary;
let summary: IngestSummary;
let features: FeaturesResult;

/** Every string PHI value of the raw zone, and the long ones searched as bytes. */
const phiStrings = new Set<string>();
let searchable: string[] = [];
/** Raw rows by `<date>/<file>/<id>`. */
const rawEncounters = new Map<string, { pid: string; admit: number; discharge: number }>();
const rawLabs = new Map<string, { pid: string; observed: number }>();
const rawBirth = new Map<string, number>();
/** Raw record ids (encounter and lab), which producers may build from the MRN. */
const rawRecordIds = new Set<string>();
const rawTables: { key: string; table: Table }[] = [];
const unreadableRaw: string[] = [];
/** Curated objects by table. */
const curated = new Map<string, { key: string; table: Table }[]>();
let featureShards: { key: string; table: Table }[] = [];

async function readRawZone(): Promise<void> {
  const birthIso = new Set<string>();
  for (const key of await listKeys(store, 'raw/')) {
    const p = parseRawKey(key)!;
    let table: Table;
    try {
      table = await readTable(store, key);
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      unreadableRaw.push(key); // the truncated copy: its rows are copies of rows landed elsewhere
      continue;
    }
    rawTables.push({ key, table });
    for (const f of contractSchemas[p.table].fields) {
      if (!isPhiField(f) || !DataType.isUtf8(f.type) || !table.getChild(f.name)) continue;
      for (const v of strings(table, f.name)) if (v !== null) phiStrings.add(v);
    }
    // Curated record ids are keyed pseudonyms of the raw ones: join through the same key.
    const pz = new Pseudonymizer(env.keys.pseudonym);
    const at = (id: string) => `${p.date}/${p.fileName}/${id}`;
    const pids = strings(table, 'patient_id');
    if (p.table === 'patients') {
      const birth = millis(table, 'birth_date');
      pids.forEach((pid, i) => {
        rawBirth.set(pid!, birth[i]!);
        birthIso.add(new Date(birth[i]!).toISOString().slice(0, 10));
      });
    } else if (p.table === 'encounters') {
      const admit = millis(table, 'admit_time');
      const discharge = millis(table, 'discharge_time');
      strings(table, 'encounter_id').forEach((id, i) => {
        rawRecordIds.add(id!);
        rawEncounters.set(at(pz.encounterId(id!)), { pid: pids[i]!, admit: admit[i]!, discharge: discharge[i]! });
      });
    } else if (p.table === 'lab_results') {
      const observed = millis(table, 'observed_at');
      strings(table, 'lab_id').forEach((id, i) => {
        rawRecordIds.add(id!);
        rawLabs.set(at(pz.labId(id!)), { pid: pids[i]!, observed: observed[i]! });
      });
    }
  }
  searchable = [...[...phiStrings].filter((s) => s.length >= 5 && !/^\d+$/.test(s)), ...birthIso];
}

async function ingestAndBuildFeatures(): Promise<void> {
  const handle = await startIngest(
    env.client,
    env.config,
    { actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: BUCKETS },
    'manual',
    `ingest/deid-${Date.now()}`,
  );
  summary = await handle.result();
  features = await env.client.workflow.execute(featuresWorkflow, {
    workflowId: `features/deid-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ actor: TEST_ACTOR, lake: env.lakeUri, dataset: 'readmission', bucketCount: BUCKETS }],
  });
  for (const key of (await listKeys(store, 'curated/')).filter((k) => k.endsWith('.parquet'))) {
    const table = key.split('/')[1]!;
    curated.set(table, [...(curated.get(table) ?? []), { key, table: await readTable(store, key) }]);
  }
  featureShards = await Promise.all(
    (await listKeys(store, `features/readmission/${features.version}/`))
      .filter((k) => k.endsWith('.parquet'))
      .map(async (key) => ({ key, table: await readTable(store, key) })),
  );
}

test.before(async () => {
  env = await createPipelineEnv('ingest-deid');
  store = env.deps.lake(env.lakeUri);
  // Mild messiness and the corrupt files: PHI of quarantined files must not leak either.
  generation = await writeRawLake(store, { patients: 300, days: 4, seed: 17, filesPerDay: 2, messiness: { corrupt: true } });
  await env.startWorkers();
  await ingestAndBuildFeatures();
  await readRawZone();
});

test.after.always(async () => {
  await env?.close();
});

/** Where PHI shows in one object: as a decoded string cell (Parquet) or in the bytes. */
function findPhi(key: string, bytes: Uint8Array): string[] {
  const found: string[] = [];
  if (key.endsWith('.parquet')) {
    const table = readParquet(bytes, { source: key });
    for (const f of table.schema.fields) {
      if (!DataType.isUtf8(f.type)) continue;
      if (strings(table, f.name).some((v) => v !== null && phiStrings.has(v))) found.push(`${key}: column ${f.name}`);
    }
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hits = searchable.filter((s) => buf.includes(s)).length;
  if (hits > 0) found.push(`${key}: ${hits} PHI strings in the bytes`);
  return found;
}

test("the scan is not vacuous: it finds the generator's PHI in the raw zone and in a curated-style file that leaks a column", async (t) => {
  t.true(phiStrings.size > 4 * generation.options.patients, `${phiStrings.size} PHI strings`);
  t.true(searchable.length > 2 * generation.options.patients);
  t.deepEqual(
    unreadableRaw,
    generation.corruptFiles.filter((f) => f.kind === 'truncated').map((f) => f.key),
  );
  const patients = rawTables.find((r) => r.key.startsWith('raw/patients/'))!;
  t.true(findPhi(patients.key, await store.get(patients.key)).length > 0);
  // Written as curated fragments are (writeParquet's defaults): the leaked column shows in the bytes too.
  const leaky = writeParquet(patients.table.select(['patient_id', 'sex']));
  const found = findPhi('leaky.parquet', leaky);
  t.deepEqual(found, ['leaky.parquet: column patient_id', found[1]!]);
  t.regex(found[1]!, /^leaky\.parquet: \d+ PHI strings in the bytes$/);
  const quarantined = await listKeys(store, 'quarantine/');
  t.is(quarantined.length, 4, 'the PHI zone holds two files and their reasons');
});

test('no curated, rejects, manifest or feature object holds a PHI value the generator wrote, as a cell or as bytes', async (t) => {
  t.is(summary.quarantinedFiles, 2);
  t.true(summary.rejected > 0 && features.rows > 0);
  const scanned = new Map<string, number>();
  const leaks: string[] = [];
  for await (const o of store.list('')) {
    const zone = o.key.split('/')[0]!;
    if (zone === 'raw' || zone === 'quarantine' || zone === 'ground-truth') continue;
    scanned.set(zone, (scanned.get(zone) ?? 0) + 1);
    leaks.push(...findPhi(o.key, await store.get(o.key)));
  }
  t.deepEqual([...scanned.keys()].sort(), ['curated', 'features', 'manifests', 'rejects']);
  t.log(`scanned ${[...scanned].map(([z, n]) => `${n} ${z}`).join(', ')} objects for ${phiStrings.size} PHI strings`);
  t.deepEqual(leaks, []);
});

/** The patient behind each pseudonym, from curated encounters joined to the raw rows they came from. */
function pseudonymMap(): Map<string, string> {
  const pidOf = new Map<string, string>();
  for (const { table } of curated.get('encounters')!) {
    const pk = strings(table, 'patient_key');
    const date = strings(table, 'ingest_date');
    const file = strings(table, 'source_file');
    strings(table, 'encounter_id').forEach((id, i) => pidOf.set(pk[i]!, rawEncounters.get(`${date[i]}/${file[i]}/${id}`)!.pid));
  }
  return pidOf;
}

test('record ids are keyed pseudonyms: no raw encounter or lab id (built from the MRN by the generator) is in curated or features', (t) => {
  t.true(rawRecordIds.size > 1000);
  const leaks: string[] = [];
  let seen = 0;
  for (const [table, objects] of curated) {
    for (const { key, table: data } of objects) {
      for (const column of ['encounter_id', 'lab_id']) {
        if (!data.getChild(column)) continue;
        for (const id of strings(data, column)) {
          if (id === null) continue;
          seen++;
          if (rawRecordIds.has(id) || !/^[el][0-9a-f]{24}$/.test(id)) leaks.push(`${table} ${key} ${column}`);
        }
      }
    }
  }
  for (const { key, table } of featureShards)
    for (const id of strings(table, 'encounter_id')) if (id !== null && rawRecordIds.has(id)) leaks.push(`${key} encounter_id`);
  t.true(seen > 1000);
  t.deepEqual(leaks.slice(0, 5), []);
});

test('each patient has one pseudonym, never their id, and one nonzero whole-day offset that moves every date of theirs', (t) => {
  const pidOf = pseudonymMap();
  t.is(new Set(pidOf.values()).size, pidOf.size, 'distinct patients, distinct pseudonyms');
  t.is(pidOf.size, generation.options.patients);
  t.deepEqual(
    [...pidOf].filter(([pk, pid]) => !/^p[0-9a-f]{24}$/.test(pk) || pk.includes(pid)),
    [],
  );
  const shiftOf = new Map<string, number>();
  const problems: string[] = [];
  let checked = 0;
  const check = (where: string, pk: string, curatedMs: number, rawMs: number) => {
    if (Number.isNaN(curatedMs) && Number.isNaN(rawMs)) return;
    checked++;
    const shift = curatedMs - rawMs;
    if (!(shift % DAY_MS === 0 && shift !== 0 && Math.abs(shift) <= MAX_SHIFT_DAYS * DAY_MS)) problems.push(`${where}: shift ${shift / DAY_MS} days`);
    if (!shiftOf.has(pk)) shiftOf.set(pk, shift);
    else if (shiftOf.get(pk) !== shift) problems.push(`${where}: shift ${shift / DAY_MS} days, the patient's is ${shiftOf.get(pk)! / DAY_MS}`);
  };
  for (const { key, table } of curated.get('encounters')!) {
    const [pk, date, file, admit, discharge] = [
      strings(table, 'patient_key'),
      strings(table, 'ingest_date'),
      strings(table, 'source_file'),
      millis(table, 'admit_time'),
      millis(table, 'discharge_time'),
    ];
    strings(table, 'encounter_id').forEach((id, i) => {
      const raw = rawEncounters.get(`${date[i]}/${file[i]}/${id}`)!;
      check(`${key} row ${i} admit_time`, pk[i]!, admit[i]!, raw.admit);
      check(`${key} row ${i} discharge_time`, pk[i]!, discharge[i]!, raw.discharge);
      if (Number.isNaN(discharge[i]!) !== Number.isNaN(raw.discharge)) problems.push(`${key} row ${i}: discharge null changed`);
    });
  }
  for (const { key, table } of curated.get('lab_results')!) {
    const [pk, date, file, observed] = [
      strings(table, 'patient_key'),
      strings(table, 'ingest_date'),
      strings(table, 'source_file'),
      millis(table, 'observed_at'),
    ];
    strings(table, 'lab_id').forEach((id, i) => {
      const raw = rawLabs.get(`${date[i]}/${file[i]}/${id}`)!;
      if (pidOf.get(pk[i]!) !== raw.pid) problems.push(`${key} row ${i}: pseudonym of another patient`);
      check(`${key} row ${i} observed_at`, pk[i]!, observed[i]!, raw.observed);
    });
  }
  // Birth dates move with the same offset, except that anyone over 89 on the ingest date reads 90.
  let capped = 0;
  for (const { key, table } of curated.get('patients')!) {
    const [date, birth] = [strings(table, 'ingest_date'), millis(table, 'birth_date')];
    strings(table, 'patient_key').forEach((pk, i) => {
      const raw = rawBirth.get(pidOf.get(pk!)!)!;
      const ingestMs = Date.parse(`${date[i]}T00:00:00Z`);
      if (birth[i] === raw) problems.push(`${key} row ${i}: birth date unchanged`);
      if ((ingestMs - raw) / (365.2425 * DAY_MS) < 90) {
        check(`${key} row ${i} birth_date`, pk!, birth[i]!, raw);
      } else {
        capped++;
        const age = Math.floor((ingestMs - (birth[i]! - shiftOf.get(pk!)!)) / (365.2425 * DAY_MS));
        if (age !== 90) problems.push(`${key} row ${i}: a patient over 89 reads ${age}`);
      }
    });
  }
  t.deepEqual(problems.slice(0, 20), []);
  t.true(checked > 10_000, `${checked} dates checked`);
  t.true(capped > 0, 'the lake has patients over 89');
  t.is(shiftOf.size, generation.options.patients);
  t.true(new Set(shiftOf.values()).size > 50, 'offsets differ between patients');
});

test("lengths of stay and the days between a patient's admissions survive exactly", (t) => {
  const byPatient = new Map<string, { curatedAdmit: number; rawAdmit: number }[]>();
  const problems: string[] = [];
  let stays = 0;
  for (const { key, table } of curated.get('encounters')!) {
    const [pk, date, file, admit, discharge] = [
      strings(table, 'patient_key'),
      strings(table, 'ingest_date'),
      strings(table, 'source_file'),
      millis(table, 'admit_time'),
      millis(table, 'discharge_time'),
    ];
    strings(table, 'encounter_id').forEach((id, i) => {
      const raw = rawEncounters.get(`${date[i]}/${file[i]}/${id}`)!;
      const los = discharge[i]! - admit[i]!;
      const rawLos = raw.discharge - raw.admit;
      if (!(Object.is(los, rawLos) || (Number.isNaN(los) && Number.isNaN(rawLos))))
        problems.push(`${key} row ${i}: length of stay ${los} ms, raw ${rawLos} ms`);
      if (!Number.isNaN(los)) stays++;
      byPatient.set(pk[i]!, [...(byPatient.get(pk[i]!) ?? []), { curatedAdmit: admit[i]!, rawAdmit: raw.admit }]);
    });
  }
  let pairs = 0;
  for (const [pk, rows] of byPatient) {
    for (let a = 0; a < rows.length; a++) {
      for (let b = a + 1; b < rows.length; b++) {
        pairs++;
        const gap = rows[b]!.curatedAdmit - rows[a]!.curatedAdmit;
        const rawGap = rows[b]!.rawAdmit - rows[a]!.rawAdmit;
        if (gap !== rawGap) problems.push(`${pk}: ${gap} ms between admissions, raw ${rawGap} ms`);
      }
    }
  }
  t.deepEqual(problems.slice(0, 20), []);
  t.true(stays > 500, `${stays} stays`);
  t.true(pairs > 500, `${pairs} pairs of admissions`);
});

test('feature rows carry the curated, shifted discharge time and ages of at most 90', (t) => {
  const curatedDischarges = new Map<string, Set<number>>();
  for (const { table } of curated.get('encounters')!) {
    const discharge = millis(table, 'discharge_time');
    strings(table, 'encounter_id').forEach((id, i) => curatedDischarges.set(id!, (curatedDischarges.get(id!) ?? new Set()).add(discharge[i]!)));
  }
  const rawDischarges = new Map<string, Set<number>>();
  for (const [at, raw] of rawEncounters) {
    const id = at.split('/')[2]!;
    rawDischarges.set(id, (rawDischarges.get(id) ?? new Set()).add(raw.discharge));
  }
  const problems: string[] = [];
  let rows = 0;
  let maxAge = 0;
  for (const { key, table } of featureShards) {
    const [discharge, age] = [millis(table, 'discharge_time'), table.getChild('age')!.toArray() as Float64Array];
    strings(table, 'encounter_id').forEach((id, i) => {
      rows++;
      if (!curatedDischarges.get(id!)?.has(discharge[i]!)) problems.push(`${key} row ${i}: discharge time not the curated one`);
      if (rawDischarges.get(id!)?.has(discharge[i]!)) problems.push(`${key} row ${i}: raw discharge time`);
      maxAge = Math.max(maxAge, age[i]!);
    });
  }
  t.deepEqual(problems.slice(0, 20), []);
  t.is(rows, features.rows);
  // Capped birth dates make the oldest read 90 on their ingest date, so at most that (a hair over, in fractional years) at discharge.
  t.true(maxAge >= 85 && maxAge < 90.01, `oldest age ${maxAge}`);
});
