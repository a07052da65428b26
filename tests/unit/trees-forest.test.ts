/**
 * The tree model as a file and as sub-forests: the flat arrays survive a save/load round trip
 * with identical predictions, a damaged file fails loudly, prediction over columns equals
 * prediction over rows, and a random forest trained as sub-forests (in separate activities, over
 * a real file:// lake) and merged is exactly the forest trained in one go.
 */
import test from 'ava';
import { rmSync } from 'node:fs';
import { Table } from 'apache-arrow';
import { float64Vector } from '../../activities/io/arrow-columns.js';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { ActivityDeps } from '../../activities/context.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet } from '../../activities/io/parquet.js';
import { readMetadata } from '../../activities/registry/metadata.js';
import { type PreprocessingPipeline, transform } from '../../activities/features/pipeline.js';
import { loadFeatureSet, splitByPatient } from '../../activities/train/feature-set.js';
import { trainCandidate, type TrainCandidateInput } from '../../activities/train/train-candidate.js';
import { type Forest, mergeForests, predictProba, predictProbaColumns } from '../../activities/train/trees/forest.js';
import { BLOB_FILE, decodeForest, encodeForest, packForest, unpackForest } from '../../activities/train/trees/format.js';
import { fitGbdt } from '../../activities/train/trees/gbdt.js';
import { loadTreeModel, predictTable } from '../../activities/train/trees/model.js';
import { parseGbdtParams, parseRfParams } from '../../activities/train/trees/params.js';
import { fitRandomForest, subForestRange } from '../../activities/train/trees/rf.js';
import { Rng } from '../../activities/train/trees/rng.js';
import { subForestKey, trainSubForest } from '../../activities/train/trees/subforest.js';
import { CorruptFileError } from '../../core/errors.js';
import { readAuditStream } from '../../activities/audit/log.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const D = 6;

function data(n: number, seed: number): { x: Float64Array; y: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * D);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < D; j++) x[i * D + j] = rng.next() < 0.05 ? Number.NaN : rng.next() * 2 - 1;
    const z = 2 * (x[i * D] ?? 0) - (x[i * D + 1]! > 0.2 ? 1 : 0) + (Number.isNaN(x[i * D + 2]!) ? 1 : 0);
    y[i] = rng.next() < 1 / (1 + Math.exp(-2 * (Number.isNaN(z) ? 0 : z))) ? 1 : 0;
  }
  return { x, y };
}

const TRAIN = data(3000, 1);
const PROBE = data(1000, 2);

function sameForest(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, a: Forest, b: Forest): void {
  for (const k of ['treeStart', 'feature', 'threshold', 'left', 'missingLeft', 'value', 'gain', 'cover'] as const) t.deepEqual(a[k], b[k], k);
  t.deepEqual([a.kind, a.baseScore, a.nFeatures], [b.kind, b.baseScore, b.nFeatures]);
}

test('a saved gradient-boosted model loads back to the same arrays and identical predictions', async (t) => {
  const { forest } = await fitGbdt(TRAIN.x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 20 }));
  const { header, blob } = encodeForest(forest, { note: 'test' });
  t.is(header.blob.file, BLOB_FILE);
  t.is(header.trees, 20);
  t.is(header.output, 'logistic-of-sum');
  const json = JSON.stringify(header);
  const loaded = loadTreeModel(json, Uint8Array.from(blob));
  sameForest(t, loaded, forest);
  t.deepEqual(predictProba(loaded, PROBE.x, 1000, D), predictProba(forest, PROBE.x, 1000, D));
  // About 33 bytes a node.
  t.true(blob.length <= 40 * forest.feature.length + 64);
});

test('a packed random forest unpacks to identical predictions', async (t) => {
  const forest = await fitRandomForest(TRAIN.x, TRAIN.y, 3000, D, parseRfParams({ nEstimators: 8 }));
  const { forest: loaded, header } = unpackForest(packForest(forest, { part: 0 }), 'test.bin');
  t.is(header.kind, 'rf');
  t.deepEqual(header.training, { part: 0 });
  sameForest(t, loaded, forest);
  t.deepEqual(predictProba(loaded, PROBE.x, 1000, D), predictProba(forest, PROBE.x, 1000, D));
});

test('a damaged model file fails with CorruptFileError instead of predicting', async (t) => {
  const { forest } = await fitGbdt(TRAIN.x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 3 }));
  const { header, blob } = encodeForest(forest);
  const flipped = Uint8Array.from(blob);
  flipped[100] = flipped[100]! ^ 0xff;
  t.throws(() => decodeForest(header, flipped), { instanceOf: CorruptFileError, message: 'trees: model blob does not match the SHA-256 in its header' });
  t.throws(() => decodeForest(header, blob.subarray(0, blob.length - 8)), { instanceOf: CorruptFileError, message: /blob has \d+ bytes, the header says \d+/ });
  t.throws(() => decodeForest({ ...header, nFeatures: 1 }, blob), { instanceOf: CorruptFileError, message: /splits on a feature outside 0\.\.0/ });
  t.throws(() => loadTreeModel('{', blob), { instanceOf: CorruptFileError });
  t.throws(() => unpackForest(new Uint8Array(40), 'x.bin'), { instanceOf: CorruptFileError, message: 'trees: x.bin is not a packed tree model' });
});

test('prediction over per-feature columns equals prediction over the row-major matrix', async (t) => {
  const { forest } = await fitGbdt(TRAIN.x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 10 }));
  const columns = Array.from({ length: D }, (_, j) => Float64Array.from({ length: 1000 }, (_, i) => PROBE.x[i * D + j]!));
  t.deepEqual(predictProbaColumns(forest, columns, 1000), predictProba(forest, PROBE.x, 1000, D));
});

test('prediction over an Arrow table treats nulls as missing values and equals prediction over rows', async (t) => {
  const { forest } = await fitGbdt(TRAIN.x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 10 }));
  const names = Array.from({ length: D }, (_, j) => `f${j}`);
  const table = new Table(
    Object.fromEntries(names.map((name, j) => [name, float64Vector(Float64Array.from({ length: 1000 }, (_, i) => PROBE.x[i * D + j]!))])),
  );
  t.deepEqual(predictTable(forest, table, names), predictProba(forest, PROBE.x, 1000, D));
  t.throws(() => predictTable(forest, table, ['f0', 'nope', 'f2', 'f3', 'f4', 'f5']), { message: 'trees: the table has no column "nope"' });
});

test('sub-forests grown separately and merged in order are the forest grown in one go', async (t) => {
  const params = parseRfParams({ nEstimators: 10, seed: 4 });
  const whole = await fitRandomForest(TRAIN.x, TRAIN.y, 3000, D, params);
  const parts = [];
  for (let k = 0; k < 3; k++) parts.push(await fitRandomForest(TRAIN.x, TRAIN.y, 3000, D, params, subForestRange(10, k, 3), { threads: 1 + (k % 2) }));
  t.deepEqual(
    parts.map((p) => p.treeStart.length - 1),
    [3, 3, 4],
  );
  sameForest(t, mergeForests(parts), whole);
  t.deepEqual(predictProba(mergeForests(parts), PROBE.x, 1000, D), predictProba(whole, PROBE.x, 1000, D));
});

// ---- the activities over a file:// lake ----------------------------------------------------------

let deps: ActivityDeps & { close(): void };
let lakeUri = '';
let lakeDir = '';
let store: ObjectStore;
let featuresVersion = '';

test.before(async () => {
  const local = localLake('trees');
  ({ deps, lakeUri } = local);
  lakeDir = local.dir;
  store = deps.lake(lakeUri);
  await writeRawLake(store, { patients: 600, days: 33, seed: 17 });
  await ingestAll(deps, lakeUri, 4);
  featuresVersion = (await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: 4 })).version;
});

test.after.always(() => {
  deps?.close();
  if (lakeDir) rmSync(lakeDir, { recursive: true, force: true });
});

const candidate = (family: 'rf' | 'gbdt', version: string, hyperparameters: TrainCandidateInput['hyperparameters']): TrainCandidateInput => ({
  lake: lakeUri,
  model: 'trees-test',
  dataset: 'readmission',
  featuresVersion,
  family,
  version,
  hyperparameters,
  testFraction: 0.25,
  seed: 3,
  codeVersion: 'test',
});

async function scores(version: string): Promise<Float64Array> {
  const table = readParquet(await store.get(lake.registryFile('trees-test', version, 'predictions.parquet')), { source: version });
  return table.getChild('score')!.toArray() as Float64Array;
}

test('a forest trained as sub-forest activities and merged scores the test patients exactly as one trained in one activity', async (t) => {
  const hyperparameters = { nEstimators: 12, seed: 8, subForests: 3 };
  const merged = candidate('rf', 'v1-rf', hyperparameters);
  const parts = [];
  for (let part = 0; part < 3; part++) parts.push(await trainSubForest(deps, { ...merged, part, parts: 3 }));
  t.deepEqual(
    parts.map((p) => [p.from, p.to]),
    [
      [0, 4],
      [4, 8],
      [8, 12],
    ],
  );
  t.is(parts[1]!.key, subForestKey('trees-test', 'v1-rf', 1));
  t.true((await store.head('registry/trees-test/v1-rf/parts/subforest-2.bin')) !== undefined);
  // A retried part finds its file and does not train again.
  const again = await trainSubForest(deps, { ...merged, part: 1, parts: 3 });
  t.deepEqual(again, parts[1]);

  const result = await trainCandidate(deps, { ...merged, subForests: parts });
  const single = await trainCandidate(deps, candidate('rf', 'v2-rf', hyperparameters));
  t.is(result.family, 'rf');
  t.is(result.metrics.rocAuc, single.metrics.rocAuc);
  t.deepEqual(await scores('v1-rf'), await scores('v2-rf'));
  t.true(Math.abs(result.trainSeconds - parts.reduce((s, p) => s + p.trainSeconds, 0)) < 1e-9, "train seconds are the parts' summed");
  const metadata = await readMetadata(store, 'trees-test', 'v1-rf');
  t.is(metadata!.backend, 'typescript-cpu');
  t.is(metadata!.hyperparameters.nEstimators, 12);
  t.is(metadata!.hyperparameters.subForests, 3);
});

test('a gradient-boosted candidate writes model.json and model.bin that load back to the predictions it recorded', async (t) => {
  const result = await trainCandidate(deps, candidate('gbdt', 'v3-gbdt', { maxIter: 30 }));
  t.is(result.family, 'gbdt');
  const json = new TextDecoder().decode(await store.get(lake.registryFile('trees-test', 'v3-gbdt', 'model.json')));
  const blob = await store.get(`${lake.registryVersion('trees-test', 'v3-gbdt')}model.bin`);
  const forest = loadTreeModel(json, blob);
  t.is(forest.kind, 'gbdt');
  const header = JSON.parse(json) as { training: { hyperparameters: Record<string, unknown> } };
  t.is(header.training.hyperparameters.maxIter, 30);
  // The test patients through the registered pipeline and the loaded model: the recorded scores.
  const features = await loadFeatureSet(store, 'readmission', featuresVersion);
  const split = splitByPatient(features.patientKeys, 0.25, 3);
  const pipeline = JSON.parse(
    new TextDecoder().decode(await store.get(lake.registryFile('trees-test', 'v3-gbdt', 'preprocessing_pipeline.json'))),
  ) as PreprocessingPipeline;
  const x = transform(pipeline, features.columns, split.test);
  t.deepEqual(predictProba(forest, x, split.test.length, pipeline.width), await scores('v3-gbdt'));
  t.is(split.test.length, result.metrics.testRows);
  // The training read is in the audit trail: who (no workflow here: `local`), which data, how many rows.
  const reads = await readAuditStream(store, 'data-read-training-trees-test-gbdt');
  t.deepEqual(
    reads.map((r) => [r.actor, r.eventId, r.event.featuresVersion, r.event.rows]),
    [['local', 'train:trees-test/v3-gbdt', featuresVersion, features.patientKeys.length]],
  );
});
