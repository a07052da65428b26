/**
 * Gradient boosting and the random forest on data with known structure: a rule they must
 * recover, missing values that carry the label, determinism for a seed (and for any number of
 * histogram threads), and early stopping.
 */
import test from 'ava';
import { InvalidInputError } from '../../core/errors.js';
import { rocAuc } from '../../activities/evaluate/metrics-ranking.js';
import { type Forest, predictProba } from '../../activities/train/trees/forest.js';
import { fitGbdt } from '../../activities/train/trees/gbdt.js';
import { parseGbdtParams, parseRfParams } from '../../activities/train/trees/params.js';
import { fitRandomForest } from '../../activities/train/trees/rf.js';
import { Rng } from '../../activities/train/trees/rng.js';

const D = 5;

/**
 * y = 1 exactly when x0 > 0.3 and x1 <= 5 (x0 uniform in [0, 1], x1 an integer 0..9); x2..x4 are
 * noise. Labels flipped with probability `noise`.
 */
function ruleData(n: number, seed: number, noise = 0): { x: Float64Array; y: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * D);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i * D] = rng.next();
    x[i * D + 1] = rng.int(10);
    for (let j = 2; j < D; j++) x[i * D + j] = rng.next() * 4 - 2;
    const rule = x[i * D]! > 0.3 && x[i * D + 1]! <= 5 ? 1 : 0;
    y[i] = rng.next() < noise ? 1 - rule : rule;
  }
  return { x, y };
}

function accuracy(p: Float64Array, y: Uint8Array): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) right += (p[i]! >= 0.5 ? 1 : 0) === y[i] ? 1 : 0;
  return right / y.length;
}

function sameForest(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, a: Forest, b: Forest): void {
  for (const k of ['treeStart', 'feature', 'threshold', 'left', 'missingLeft', 'value', 'gain', 'cover'] as const) t.deepEqual(a[k], b[k], k);
  t.deepEqual([a.kind, a.baseScore, a.nFeatures], [b.kind, b.baseScore, b.nFeatures]);
}

test('gradient boosting recovers a two-feature rule: its first split is on one of them, at the rule threshold', async (t) => {
  const train = ruleData(4000, 1);
  const test_ = ruleData(2000, 2);
  const { forest, info } = await fitGbdt(train.x, train.y, 4000, D, parseGbdtParams({ maxIter: 60, seed: 3 }));
  t.false(info.earlyStopped);
  t.is(info.trees, 60);
  const p = predictProba(forest, test_.x, 2000, D);
  t.true(accuracy(p, test_.y) > 0.99, `accuracy ${accuracy(p, test_.y)}`);
  // The root of the first tree: x0 at 0.3 (between the neighbouring training values) or x1 at 5.5.
  const f = forest.feature[0]!;
  const thr = forest.threshold[0]!;
  t.true((f === 0 && Math.abs(thr - 0.3) < 0.01) || (f === 1 && thr === 5.5), `root splits feature ${f} at ${thr}`);
  // No tree ever splits on the noise features near the top.
  for (let tr = 0; tr < 5; tr++) t.true(forest.feature[forest.treeStart[tr]!]! <= 1);
});

test('the random forest recovers the same rule, and its probabilities average its trees', async (t) => {
  const train = ruleData(3000, 4);
  const test_ = ruleData(2000, 5);
  const forest = await fitRandomForest(train.x, train.y, 3000, D, parseRfParams({ nEstimators: 30, seed: 7 }));
  t.is(forest.treeStart.length, 31);
  const p = predictProba(forest, test_.x, 2000, D);
  t.true(accuracy(p, test_.y) > 0.98, `accuracy ${accuracy(p, test_.y)}`);
  for (const v of p) t.true(v >= 0 && v <= 1);
  // Trees grow until pure: every leaf of a noise-free rule is 0 or 1.
  for (let i = 0; i < forest.left.length; i++) if (forest.left[i] === -1) t.true(forest.value[i] === 0 || forest.value[i] === 1);
});

test('missing values that carry the label are routed by a learnt direction', async (t) => {
  // y = 1 when x0 is missing or x0 > 0.8; x0 is missing for 30% of rows.
  const n = 4000;
  const rng = new Rng(11);
  const x = new Float64Array(n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const missing = rng.next() < 0.3;
    x[i * 2] = missing ? Number.NaN : rng.next();
    x[i * 2 + 1] = rng.next();
    y[i] = missing || x[i * 2]! > 0.8 ? 1 : 0;
  }
  const probe = Float64Array.from([Number.NaN, 0.5, 0.5, 0.5, 0.9, 0.5]);
  const { forest } = await fitGbdt(x, y, n, 2, parseGbdtParams({ maxIter: 30 }));
  const p = predictProba(forest, probe, 3, 2);
  t.true(p[0]! > 0.95 && p[1]! < 0.05 && p[2]! > 0.95, `gbdt: ${[...p].join(', ')}`);
  // The first split isolates x0 in (-inf, 0.8] from the rest, missing values going with the high side.
  t.is(forest.feature[0], 0);
  t.true(Math.abs(forest.threshold[0]! - 0.8) < 0.01);
  t.is(forest.missingLeft[0], 0);

  const rf = await fitRandomForest(x, y, n, 2, parseRfParams({ nEstimators: 10, maxFeatures: 1 }));
  const q = predictProba(rf, probe, 3, 2);
  t.true(q[0]! > 0.95 && q[1]! < 0.05 && q[2]! > 0.95, `rf: ${[...q].join(', ')}`);
});

test('a feature never missing in training sends missing values to the larger child at prediction', async (t) => {
  const train = ruleData(2000, 8);
  const { forest } = await fitGbdt(train.x, train.y, 2000, D, parseGbdtParams({ maxIter: 5 }));
  for (let i = 0; i < forest.left.length; i++) {
    const l = forest.left[i]!;
    if (l < 0) continue;
    const tree = forest.treeStart.findLastIndex((s) => s <= i);
    const start = forest.treeStart[tree]!;
    const larger = forest.cover[start + l]! >= forest.cover[start + l + 1]! ? 1 : 0;
    t.is(forest.missingLeft[i], larger);
  }
});

test('training is deterministic for a seed and does not depend on the number of histogram threads', async (t) => {
  const data = ruleData(12_000, 12, 0.1);
  const params = parseGbdtParams({ maxIter: 15, subsample: 0.8, colsampleByTree: 0.8, colsampleByNode: 0.7, seed: 5 });
  const a = await fitGbdt(data.x, data.y, 12_000, D, params, { threads: 1 });
  const b = await fitGbdt(data.x, data.y, 12_000, D, params, { threads: 1 });
  const c = await fitGbdt(data.x, data.y, 12_000, D, params, { threads: 3 });
  sameForest(t, a.forest, b.forest);
  sameForest(t, a.forest, c.forest);
  t.deepEqual(a.info, c.info);
  const other = await fitGbdt(data.x, data.y, 12_000, D, { ...params, seed: 6 }, { threads: 1 });
  t.notDeepEqual(other.forest.value, a.forest.value, 'another seed samples other rows and features');

  const rfParams = parseRfParams({ nEstimators: 6, seed: 9 });
  const r1 = await fitRandomForest(data.x, data.y, 12_000, D, rfParams, undefined, { threads: 1 });
  const r2 = await fitRandomForest(data.x, data.y, 12_000, D, rfParams, undefined, { threads: 2 });
  sameForest(t, r1, r2);
});

test('early stopping keeps the trees up to the best validation loss', async (t) => {
  // Pure noise: nothing to learn, so the validation loss stops improving after a few trees.
  const n = 12_000;
  const rng = new Rng(13);
  const x = Float64Array.from({ length: n * 3 }, () => rng.next());
  const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const { forest, info } = await fitGbdt(x, y, n, 3, parseGbdtParams({ maxIter: 200, nIterNoChange: 5 }));
  t.true(info.earlyStopped);
  t.is(info.validationRows, Math.round(0.1 * y.reduce((s, v) => s + v, 0)) + Math.round(0.1 * (n - y.reduce((s, v) => s + v, 0))));
  t.true(info.iterations < 200);
  t.is(info.iterations - info.trees, 5);
  t.is(forest.treeStart.length - 1, info.trees);
  t.true(info.validationLoss! > 0.55 && info.validationLoss! < 0.65);
  // Off: every tree is grown.
  const all = await fitGbdt(x, y, n, 3, parseGbdtParams({ maxIter: 20, earlyStopping: 'off' }));
  t.is(all.info.trees, 20);
  t.is(all.info.validationLoss, null);
});

test('gradient boosting ranks held-out rows of a noisy rule well', async (t) => {
  const train = ruleData(6000, 14, 0.15);
  const test_ = ruleData(3000, 15, 0.15);
  const { forest } = await fitGbdt(train.x, train.y, 6000, D, parseGbdtParams({}));
  // With 15% label noise the best possible AUC is about 0.85.
  t.true(rocAuc(predictProba(forest, test_.x, 3000, D), test_.y) > 0.83);
});

test('bad hyperparameters and labels are rejected with the name of what is wrong', async (t) => {
  t.throws(() => parseGbdtParams({ learningRate: 0 }), { instanceOf: InvalidInputError, message: 'gbdt: hyperparameter learningRate must be in (0, 10]' });
  t.throws(() => parseGbdtParams({ nTrees: 10 }), { instanceOf: InvalidInputError, message: /unknown hyperparameter "nTrees"/ });
  t.throws(() => parseRfParams({ maxFeatures: 'all' }), {
    instanceOf: InvalidInputError,
    message: 'rf: hyperparameter maxFeatures must be "sqrt", "log2" or a fraction in (0, 1]',
  });
  const x = new Float64Array(10);
  await t.throwsAsync(fitGbdt(x, new Uint8Array(10), 10, 1, parseGbdtParams({})), {
    instanceOf: InvalidInputError,
    message: 'gbdt: the labels contain only one class',
  });
  await t.throwsAsync(
    fitRandomForest(
      x,
      Uint8Array.from({ length: 10 }, (_, i) => (i === 3 ? 2 : i % 2)),
      10,
      1,
      parseRfParams({}),
    ),
    {
      instanceOf: InvalidInputError,
      message: 'rf: label at row 3 is not 0 or 1',
    },
  );
});
