/**
 * No training/serving skew: every test-split stay of a generated lake (with its messiness:
 * corrections, duplicates, alternate units, rejected rows), sent to `carepipe serve` as raw rows in
 * the data contract's shape, gets the probability the batch path stored in the champion's
 * predictions.parquet, to 1e-9. And the request's PHI (names, SSN, phone, email, patient id, birth
 * date, zip) appears neither in any response nor in the server's log.
 */
import test from 'ava';
import { Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import { intOrFloatToFloat64, readParquet } from '../../activities/io/parquet.js';
import { createLogger } from '../../core/log.js';
import { lake } from '../../data-lake/layout.js';
import { type RunningServer, serveSettings, startServer } from '../../serving/server.js';
import { type PatientRows, rawRowsByPatient } from '../helpers/raw-stays.js';
import { MODEL, type ServingLake, servingLake, setChampion } from '../helpers/serving-lake.js';

let env: ServingLake;
let server: RunningServer;
let patients: Map<string, PatientRows>;
const logLines: string[] = [];
const PORT = 31102;
const PHI_COLUMNS = ['patient_id', 'first_name', 'last_name', 'birth_date', 'zip', 'ssn', 'phone', 'email'];

test.before(async () => {
  env = await servingLake('serve-raw', [{ key: 'logreg', family: 'logreg' }], { patients: 700, seed: 43 });
  await setChampion(env.store, env.versions.logreg!);
  server = await startServer(
    env.store,
    { ...serveSettings({}, {}), port: PORT },
    createLogger('debug', { test: 'raw-parity' }, (line) => logLines.push(line)),
    env.deps.keys.pseudonym,
  );
  patients = await rawRowsByPatient(env.store);
});

test.after.always(async () => {
  await server?.close();
  env?.cleanup();
});

const predict = (body: unknown) =>
  fetch(`${server.url}/v1/models/${MODEL}:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('every test-split stay sent as raw rows gets the batch probability to 1e-9, and no PHI comes back or reaches the log', async (t) => {
  const key = lake.registryFile(MODEL, env.versions.logreg!, 'predictions.parquet');
  const table = readParquet(await env.store.get(key), { source: key });
  const pseudonyms = stringValues(table.getChild('encounter_id'), table.numRows);
  const patientKeys = stringValues(table.getChild('patient_key'), table.numRows);
  const scores = intOrFloatToFloat64(table.getChild('score')!, 'score');
  // Pseudonym -> raw ids, with the lake's key: the test knows what the client knows (raw ids).
  const pseudonymizer = new Pseudonymizer(env.deps.keys.pseudonym);
  const patientOf = new Map<string, string>();
  const encounterOf = new Map<string, string>();
  for (const [patientId, p] of patients) {
    patientOf.set(pseudonymizer.patient(patientId).key, patientId);
    for (const e of p.rows.encounters) if (typeof e.encounter_id === 'string') encounterOf.set(pseudonymizer.encounterId(e.encounter_id), e.encounter_id);
  }
  const stays = pseudonyms.map((id, i) => {
    const patientId = patientOf.get(patientKeys[i]!)!;
    const p = patients.get(patientId)!;
    return { raw: { encounter_id: encounterOf.get(id!)!, as_of: p.asOf, ...p.rows }, expected: scores[i]! };
  });
  t.true(stays.length >= 100, `${stays.length} test stays`);
  const responses: string[] = [];
  let worst = 0;
  for (let at = 0; at < stays.length; at += 40) {
    const batch = stays.slice(at, at + 40);
    const res = await predict({ instances: batch.map((s) => ({ raw: s.raw })) });
    const text = await res.text();
    t.is(res.status, 200, text.slice(0, 300));
    responses.push(text);
    const answer = JSON.parse(text) as { version: string; predictions: { probability: number }[] };
    t.is(answer.version, env.versions.logreg!);
    batch.forEach((s, i) => (worst = Math.max(worst, Math.abs(answer.predictions[i]!.probability - s.expected))));
  }
  t.log(`${stays.length} test-split stays, largest difference ${worst}`);
  t.true(worst <= 1e-9, `largest difference ${worst}`);

  const phi = new Set<string>();
  for (const s of stays)
    for (const row of [...s.raw.patients, ...s.raw.encounters, ...s.raw.lab_results])
      for (const c of PHI_COLUMNS) if (typeof row[c] === 'string' && row[c].length >= 4) phi.add(row[c]);
  t.true(phi.size > 100);
  const haystacks = [...responses, ...logLines].join('\n');
  // A value of digits alone (a zip) may occur inside a probability's digits: look for it as a JSON string.
  const echoed = (v: string) => (/^[\d-]+$/.test(v) ? haystacks.includes(JSON.stringify(v)) : haystacks.includes(v));
  t.deepEqual([...phi].filter(echoed), []);
  t.true(logLines.some((l) => l.includes('"msg":"predict"')));
});

test('raw rows that ingest would refuse are 400 problems naming the field, without the value', async (t) => {
  const [patientId, p] = [...patients].find(([, rows]) => rows.rows.encounters.some((e) => e.encounter_class === 'inpatient' && e.discharge_time !== null))!;
  const stay = p.rows.encounters.find((e) => e.encounter_class === 'inpatient' && e.discharge_time !== null)!;
  const raw = { encounter_id: stay.encounter_id, as_of: p.asOf, ...p.rows };
  const check = async (body: unknown, field: string, reason: string) => {
    const res = await predict({ instances: [body] });
    const text = await res.text();
    t.is(res.status, 400, text);
    t.like(JSON.parse(text), { field, reason });
    t.false(text.includes(patientId), 'the patient id is not echoed');
  };
  const badTime = p.rows.encounters.map((e) => (e === stay ? { ...e, admit_time: 'yesterday' } : e));
  await check({ raw: { ...raw, encounters: badTime } }, `/instances/0/raw/encounters/${p.rows.encounters.indexOf(stay)}/admit_time`, 'wrong-type');
  const backwards = p.rows.encounters.map((e) => (e === stay ? { ...e, discharge_time: (e.admit_time as number) - 86_400_000 } : e));
  await check({ raw: { ...raw, encounters: backwards } }, '/instances/0/raw/encounters', 'rejected-row');
  await check({ raw: { ...raw, encounter_id: 'no-such-stay' } }, '/instances/0/raw/encounter_id', 'not-an-index-stay');
  await check({ raw: { ...raw, patients: [{ ...p.rows.patients[0], shoe_size: 9 }] } }, '/instances/0/raw/patients/0/shoe_size', 'unknown-field');
});
