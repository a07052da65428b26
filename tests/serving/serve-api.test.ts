/**
 * `carepipe serve`'s API on a generated lake with two registered versions (logreg champion, gbdt
 * pinned): health and readiness, the catalogue with the feature schema, predictions from feature
 * records (equal to the registry's own batch scores; logreg contributions checked against the
 * coefficients and the pipeline computed here independently), the Open Inference Protocol routes,
 * every kind of bad input as an RFC 9457 problem, and the loopback-only access hook.
 */
import test from 'ava';
import { loadFeatureSet, splitByPatient } from '../../activities/train/feature-set.js';
import type { FeatureSet } from '../../activities/train/feature-set.js';
import type { PreprocessingPipeline } from '../../activities/features/pipeline.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import { intOrFloatToFloat64, readParquet } from '../../activities/io/parquet.js';
import { createLogger } from '../../core/log.js';
import { lake } from '../../data-lake/layout.js';
import { type RunningServer, serveSettings, startServer } from '../../serving/server.js';
import { MODEL, type ServingLake, servingLake, setChampion } from '../helpers/serving-lake.js';

let env: ServingLake;
let server: RunningServer;
let data: FeatureSet;
let testRows: Uint32Array;
/** The registry's batch scores of the champion, by (pseudonymous) encounter id. */
const batchScores = new Map<string, number>();
const logLines: string[] = [];

const PORT = 31101;

test.before(async () => {
  env = await servingLake('serve-api', [
    { key: 'logreg', family: 'logreg' },
    { key: 'gbdt', family: 'gbdt', hyperparameters: { maxIter: 20 } },
  ]);
  await setChampion(env.store, env.versions.logreg!);
  const logger = createLogger('info', { test: 'serve-api' }, (line) => logLines.push(line));
  server = await startServer(env.store, { ...serveSettings({}, {}), port: PORT, maxBatch: 50, bodyLimit: 256 * 1024 }, logger, env.deps.keys.pseudonym);
  data = await loadFeatureSet(env.store, env.dataset, env.featuresVersion);
  testRows = splitByPatient(data.patientKeys, 0.3, 7).test;
  const key = lake.registryFile(MODEL, env.versions.logreg!, 'predictions.parquet');
  const table = readParquet(await env.store.get(key), { source: key });
  const ids = stringValues(table.getChild('encounter_id'), table.numRows);
  const scores = intOrFloatToFloat64(table.getChild('score')!, 'score');
  ids.forEach((id, i) => batchScores.set(id!, scores[i]!));
});

test.after.always(async () => {
  await server?.close();
  env?.cleanup();
});

const post = (path: string, body: unknown) =>
  fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const getJson = async (path: string) => {
  const res = await fetch(server.url + path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/** The feature record of a row of the feature set: the pipeline's inputs, NaN as null. */
function record(row: number): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const [name, values] of data.columns) {
    const v = values[row];
    out[name] = typeof v === 'number' ? (Number.isNaN(v) ? null : v) : (v ?? null);
  }
  return out;
}

interface PredictAnswer {
  model: string;
  version: string;
  family: string;
  threshold: number | null;
  predictions: { probability: number; flagged: boolean | null; contributions: { scale: string; base: number; values: Record<string, number> } | null }[];
}

test('healthz answers, and readyz is ready once the champion is loaded', async (t) => {
  t.deepEqual(await getJson('/healthz'), { status: 200, body: { status: 'ok' } });
  t.deepEqual(await getJson('/readyz'), { status: 200, body: { status: 'ready' } });
  t.deepEqual(await getJson('/v2/health/ready'), { status: 200, body: { ready: true } });
  t.deepEqual(await getJson('/v2/health/live'), { status: 200, body: { live: true } });
});

test('the catalogue lists the model, its versions, the champion, its metrics and its feature schema', async (t) => {
  const list = await getJson('/v1/models');
  t.deepEqual(list.body, { models: [{ name: MODEL, champion: env.versions.logreg }] });
  const { status, body } = await getJson(`/v1/models/${MODEL}`);
  t.is(status, 200);
  t.is(body.champion, env.versions.logreg);
  t.is(body.family, 'logreg');
  t.true(typeof body.threshold === 'number' && body.threshold > 0 && body.threshold < 1);
  const versions = body.versions as { version: string; champion: boolean; rocAuc: number }[];
  t.is((body.metrics as Record<string, number>).rocAuc, versions[0]!.rocAuc);
  t.true((body.metrics as Record<string, number>).testRows! > 0);
  t.deepEqual(
    versions.map((v) => [v.version, v.champion]),
    [
      [env.versions.logreg, true],
      [env.versions.gbdt, false],
    ],
  );
  const features = body.features as {
    name: string;
    type: string;
    unit: string | null;
    range: { min: number; max: number } | null;
    allowedValues: string[] | null;
  }[];
  const glucose = features.find((f) => f.name === 'lab_glucose_last')!;
  t.deepEqual([glucose.type, glucose.unit, glucose.range?.max], ['number', 'mg/dL', 3000]);
  const sex = features.find((f) => f.name === 'sex')!;
  t.is(sex.type, 'string');
  t.true(sex.allowedValues!.includes('F') && sex.allowedValues!.includes('M'));
  t.is(features.length, data.columns.size);
});

test('feature records get the batch scores of the champion, with its version and threshold', async (t) => {
  const rows = Array.from(testRows.subarray(0, 40));
  const res = await post(`/v1/models/${MODEL}:predict`, { instances: rows.map((r) => ({ features: record(r) })) });
  t.is(res.status, 200);
  const answer = (await res.json()) as PredictAnswer;
  t.is(answer.version, env.versions.logreg!);
  t.is(answer.family, 'logreg');
  rows.forEach((r, i) => {
    const expected = batchScores.get(data.encounterIds[r]!)!;
    t.true(Math.abs(answer.predictions[i]!.probability - expected) < 1e-12, `row ${r}`);
    t.is(answer.predictions[i]!.flagged, answer.predictions[i]!.probability >= answer.threshold!);
  });
});

test('logreg contributions are coef x standardised value per feature, in log-odds, and add up to the logit', async (t) => {
  const pipeline = JSON.parse(
    new TextDecoder().decode(await env.store.get(lake.registryFile(MODEL, env.versions.logreg!, 'preprocessing_pipeline.json'))),
  ) as PreprocessingPipeline;
  const model = JSON.parse(new TextDecoder().decode(await env.store.get(lake.registryFile(MODEL, env.versions.logreg!, 'model.json')))) as {
    intercept: number;
    coef: number[];
  };
  const row = testRows[3]!;
  const rec = record(row);
  const res = await post(`/v1/models/${MODEL}:predict`, { instances: [{ features: rec }] });
  const p = ((await res.json()) as PredictAnswer).predictions[0]!;
  t.is(p.contributions!.scale, 'log-odds');
  t.is(p.contributions!.base, model.intercept);
  // Independently of serving's code: walk the pipeline's steps and the coefficients in order.
  let j = 0;
  let sum = model.intercept;
  for (const step of pipeline.steps) {
    let expected = 0;
    if (step.kind === 'numeric') {
      const v = rec[step.name] as number | null;
      expected += model.coef[j++]! * (((v ?? step.median) - step.mean) / step.std);
      if (step.missingIndicator) expected += model.coef[j++]! * (v === null ? 1 : 0);
    } else {
      const slot = step.vocabulary.indexOf((rec[step.name] as string | null) ?? '__missing__');
      expected += model.coef[j + (slot < 0 ? step.vocabulary.length : slot)]!;
      j += step.vocabulary.length + 1;
    }
    t.true(Math.abs(p.contributions!.values[step.name]! - expected) < 1e-12, step.name);
    sum += p.contributions!.values[step.name]!;
  }
  t.is(j, model.coef.length);
  t.true(Math.abs(1 / (1 + Math.exp(-sum)) - p.probability) < 1e-12);
});

test('a pinned version answers with itself; a gbdt answers TreeSHAP contributions that add up to its log-odds', async (t) => {
  const rows = Array.from(testRows.subarray(0, 5));
  const res = await post(`/v1/models/${MODEL}/versions/${env.versions.gbdt}:predict`, { instances: rows.map((r) => ({ features: record(r) })) });
  t.is(res.status, 200);
  const answer = (await res.json()) as PredictAnswer;
  t.is(answer.version, env.versions.gbdt!);
  t.is(answer.family, 'gbdt');
  const key = lake.registryFile(MODEL, env.versions.gbdt!, 'predictions.parquet');
  const table = readParquet(await env.store.get(key), { source: key });
  const ids = stringValues(table.getChild('encounter_id'), table.numRows);
  const scores = intOrFloatToFloat64(table.getChild('score')!, 'score');
  rows.forEach((r, i) => {
    t.true(Math.abs(answer.predictions[i]!.probability - scores[ids.indexOf(data.encounterIds[r]!)]!) < 1e-12);
    const c = answer.predictions[i]!.contributions!;
    t.is(c.scale, 'log-odds');
    const margin = c.base + Object.values(c.values).reduce((a, b) => a + b, 0);
    const p = answer.predictions[i]!.probability;
    t.true(Math.abs(margin - Math.log(p / (1 - p))) < 1e-9, `base + contributions = logit(p): ${margin} vs ${Math.log(p / (1 - p))}`);
  });
  const missing = await post(`/v1/models/${MODEL}/versions/20990101T000000Z-logreg:predict`, { instances: [{ features: {} }] });
  t.is(missing.status, 404);
  t.regex(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
});

test('unknown categories go to the unknown slot, as in training', async (t) => {
  const base = record(testRows[0]!);
  const res = await post(`/v1/models/${MODEL}:predict`, {
    instances: [
      { features: { ...base, payer: 'never-seen-a' } },
      { features: { ...base, payer: 'never-seen-b' } },
      { features: { ...base, payer: 'medicare' } },
    ],
    contributions: false,
  });
  const [a, b, known] = ((await res.json()) as PredictAnswer).predictions;
  t.is(a!.probability, b!.probability);
  t.not(a!.probability, known!.probability);
  t.is(a!.contributions, null);
});

const problemOf = async (res: Response) => {
  t_assertProblemType(res);
  return (await res.json()) as { type: string; status: number; field: string; reason: string; detail: string };
};
function t_assertProblemType(res: Response) {
  if (!res.headers.get('content-type')?.startsWith('application/problem+json')) throw new Error(`not a problem document: ${res.headers.get('content-type')}`);
}

test('bad input is a 400 problem document naming the field and the reason, never the value', async (t) => {
  const base = record(testRows[0]!);
  const cases: [unknown, string, string][] = [
    [{ instances: [{ features: { ...base, shoe_size: 42 } }] }, '/instances/0/features/shoe_size', 'unknown-feature'],
    [{ instances: [{ features: base }, { features: { ...base, age: '71' } }] }, '/instances/1/features/age', 'wrong-type'],
    [{ instances: [{ features: { ...base, lab_sodium_last: 4.5 } }] }, '/instances/0/features/lab_sodium_last', 'out-of-range'],
    [{ instances: [{ features: { ...base, age: 140 } }] }, '/instances/0/features/age', 'out-of-range'],
    [{ instances: Array.from({ length: 51 }, () => ({ features: base })) }, '/instances', 'batch-too-large'],
    [{ instances: [{ features: base, raw: { encounter_id: 'x', patients: [], encounters: [] } }] }, '/instances/0', 'invalid-body'],
    [{ instances: [{ feature: base }] }, '/instances/0/feature', 'unknown-field'],
    [{ instances: 'all of them' }, '/instances', 'wrong-type'],
    [{}, '/instances', 'missing-field'],
  ];
  for (const [body, field, reason] of cases) {
    const res = await post(`/v1/models/${MODEL}:predict`, body);
    const problem = await problemOf(res);
    t.is(res.status, 400, field);
    t.like(problem, { status: 400, field, reason, type: `https://carepipe.dev/problems/${reason}` }, field);
    t.false(problem.detail.includes('4.5') || problem.detail.includes('140') || problem.detail.includes('"71"'), problem.detail);
  }
  const tooBig = await post(`/v1/models/${MODEL}:predict`, { instances: [{ features: { ...base, race: 'x'.repeat(300 * 1024) } }] });
  t.like(await problemOf(tooBig), { status: 400, reason: 'body-too-large' });
  const notJson = await post(`/v1/models/${MODEL}:predict`, '{"instances": [ SECRET-NAME');
  const notJsonProblem = await problemOf(notJson);
  t.like(notJsonProblem, { status: 400, reason: 'invalid-body' });
  t.false(JSON.stringify(notJsonProblem).includes('SECRET'));
  t.like(await problemOf(await post('/v1/models/nope:predict', { instances: [{ features: base }] })), { status: 404 });
});

test('the Open Inference Protocol routes describe the model and infer the same probabilities', async (t) => {
  const meta = await getJson(`/v2/models/${MODEL}`);
  t.is(meta.status, 200);
  t.deepEqual(meta.body.versions, [env.versions.logreg]);
  const inputs = meta.body.inputs as { name: string; datatype: string }[];
  t.deepEqual(
    inputs.find((i) => i.name === 'sex'),
    { name: 'sex', datatype: 'BYTES', shape: [-1] },
  );
  t.deepEqual(await getJson(`/v2/models/${MODEL}/ready`), { status: 200, body: { name: MODEL, ready: true } });
  const rows = Array.from(testRows.subarray(0, 7));
  const records = rows.map(record);
  const tensors = inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: [rows.length], data: records.map((r) => r[i.name] ?? null) }));
  const res = await post(`/v2/models/${MODEL}/infer`, { id: 'req-1', inputs: tensors });
  t.is(res.status, 200);
  const out = (await res.json()) as {
    model_name: string;
    model_version: string;
    id: string;
    outputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
  };
  t.like(out, { model_name: MODEL, model_version: env.versions.logreg, id: 'req-1' });
  t.deepEqual([out.outputs[0]!.name, out.outputs[0]!.shape, out.outputs[0]!.datatype], ['probability', [rows.length], 'FP64']);
  rows.forEach((r, i) => t.true(Math.abs(out.outputs[0]!.data[i]! - batchScores.get(data.encounterIds[r]!)!) < 1e-12));
  const bad = await post(`/v2/models/${MODEL}/infer`, { inputs: [{ name: 'age', datatype: 'BYTES', shape: [1], data: ['x'] }] });
  const problem = (await bad.json()) as { error: string; field: string };
  t.is(bad.status, 400);
  t.is(problem.field, '/inputs/0/datatype');
  t.true(problem.error.includes('must be FP64'));
  const outOfRange = await post(`/v2/models/${MODEL}/infer`, { inputs: [{ name: 'age', datatype: 'FP64', shape: [2], data: [70, 400] }] });
  t.like(await outOfRange.json(), { status: 400, field: '/inputs/0/data/1', reason: 'out-of-range' });
});

test('serving is loopback-only until access control is wired: another address gets 403', async (t) => {
  const res = await server.app.inject({
    method: 'POST',
    url: `/v1/models/${MODEL}:predict`,
    remoteAddress: '10.1.2.3',
    payload: { instances: [{ features: {} }] },
  });
  t.is(res.statusCode, 403);
  t.regex(String(res.headers['content-type']), /^application\/problem\+json/);
  const meta = await server.app.inject({ method: 'GET', url: `/v1/models/${MODEL}`, remoteAddress: '10.1.2.3' });
  t.is(meta.statusCode, 403);
  const local = await server.app.inject({ method: 'GET', url: `/v1/models/${MODEL}`, remoteAddress: '127.0.0.1' });
  t.is(local.statusCode, 200);
});

test('the server log has one line per scored batch with ids and counts only', async (t) => {
  const res = await post(`/v1/models/${MODEL}:predict`, { instances: [{ features: record(testRows[1]!) }] });
  t.is(res.status, 200);
  const predicts = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'predict');
  t.true(predicts.length >= 1);
  for (const l of predicts) t.deepEqual(Object.keys(l).sort(), ['level', 'model', 'ms', 'msg', 'stays', 'test', 'ts', 'version']);
});
