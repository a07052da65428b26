/**
 * TreeSHAP on our own forests: local accuracy (base + contributions is the model's output, the
 * margin for gradient boosting and the probability for a random forest), and on a small model the
 * contributions equal Shapley values computed by brute force over every coalition, with the
 * path-dependent value function (a feature outside the coalition follows both branches of its
 * splits in proportion to their training rows). The comparison with the `shap` package itself is
 * tests/unit/tree-shap-reference.test.ts.
 */
import test from 'ava';
import { type Forest, predictProba, sumTreesRowMajor } from '../../activities/train/trees/forest.js';
import { fitGbdt } from '../../activities/train/trees/gbdt.js';
import { parseGbdtParams, parseRfParams } from '../../activities/train/trees/params.js';
import { fitRandomForest } from '../../activities/train/trees/rf.js';
import { InvalidInputError } from '../../core/errors.js';
import { treeShapContributions } from '../../serving/tree-shap.js';
import { noisyRuleData } from '../helpers/tree-data.js';

const D = 6;
const TRAIN = noisyRuleData(3000, D, 11);
const ROWS = noisyRuleData(300, D, 12);
const row = (x: Float64Array, i: number, d = D) => x.subarray(i * d, (i + 1) * d);
const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

/** The path-dependent expectation of one tree given the features in `known` (a bit mask). */
function expectation(f: Forest, start: number, node: number, x: Float64Array, known: number): number {
  const l = f.left[start + node]!;
  if (l < 0) return f.value[start + node]!;
  const j = f.feature[start + node]!;
  if (known & (1 << j)) {
    const v = x[j]!;
    const left = v <= f.threshold[start + node]! || (Number.isNaN(v) && f.missingLeft[start + node] === 1);
    return expectation(f, start, left ? l : l + 1, x, known);
  }
  const wl = f.cover[start + l]!;
  const wr = f.cover[start + l + 1]!;
  return (wl * expectation(f, start, l, x, known) + wr * expectation(f, start, l + 1, x, known)) / (wl + wr);
}

function bruteForceShapley(f: Forest, x: Float64Array): Float64Array {
  const trees = f.treeStart.length - 1;
  const scale = f.kind === 'rf' ? 1 / trees : 1;
  const value = (known: number) => {
    let s = 0;
    for (let t = 0; t < trees; t++) s += expectation(f, f.treeStart[t]!, 0, x, known) * scale;
    return s;
  };
  const m = f.nFeatures;
  const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
  const phi = new Float64Array(m);
  for (let set = 0; set < 1 << m; set++) {
    let size = 0;
    for (let j = 0; j < m; j++) size += (set >> j) & 1;
    const v = value(set);
    for (let j = 0; j < m; j++) {
      if (set & (1 << j)) continue;
      phi[j] = phi[j]! + ((factorial(size) * factorial(m - size - 1)) / factorial(m)) * (value(set | (1 << j)) - v);
    }
  }
  return phi;
}

test('gradient boosting: base + contributions equals the raw margin of every row to 1e-9', async (t) => {
  const { forest } = await fitGbdt(TRAIN.x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 40, seed: 1 }));
  const margins = sumTreesRowMajor(forest, ROWS.x, 300, D);
  let nonZero = 0;
  for (let i = 0; i < 300; i++) {
    const { base, contributions } = treeShapContributions(forest, row(ROWS.x, i));
    t.true(Math.abs(base + sum(contributions) - (forest.baseScore + margins[i]!)) < 1e-9, `row ${i}`);
    nonZero += contributions.filter((c) => c !== 0).length;
  }
  t.true(nonZero > 300 * 3, 'most features contribute to most rows');
});

test('random forest: base + contributions equals the predicted probability of every row to 1e-9', async (t) => {
  const forest = await fitRandomForest(TRAIN.x, TRAIN.y, 3000, D, parseRfParams({ nEstimators: 12, maxDepth: 10, seed: 2 }));
  const p = predictProba(forest, ROWS.x, 300, D);
  for (let i = 0; i < 300; i++) {
    const { base, contributions } = treeShapContributions(forest, row(ROWS.x, i));
    t.true(Math.abs(base + sum(contributions) - p[i]!) < 1e-9, `row ${i}`);
    t.true(base > 0 && base < 1, 'the base of a forest is a probability');
  }
});

test('on a small model the contributions are the exact Shapley values of the path-dependent value function', async (t) => {
  const d = 4;
  const train = noisyRuleData(2000, d, 21);
  const rows = noisyRuleData(40, d, 22);
  const { forest: gbdt } = await fitGbdt(train.x, train.y, 2000, d, parseGbdtParams({ maxIter: 8, maxLeaves: 12, seed: 3 }));
  const rf = await fitRandomForest(train.x, train.y, 2000, d, parseRfParams({ nEstimators: 4, maxDepth: 6, maxFeatures: 1, seed: 4 }));
  for (const forest of [gbdt, rf]) {
    for (let i = 0; i < 40; i++) {
      const x = row(rows.x, i, d);
      const got = treeShapContributions(forest, x).contributions;
      const want = bruteForceShapley(forest, x);
      for (let j = 0; j < d; j++) t.true(Math.abs(got[j]! - want[j]!) < 1e-9, `${forest.kind} row ${i} feature ${j}: ${got[j]} vs ${want[j]}`);
    }
  }
});

test('a feature no tree splits on gets exactly zero, and a row of the wrong width is refused', async (t) => {
  // Column 5 is constant: no split can use it.
  const x = TRAIN.x.slice();
  for (let i = 0; i < 3000; i++) x[i * D + 5] = 1;
  const { forest } = await fitGbdt(x, TRAIN.y, 3000, D, parseGbdtParams({ maxIter: 10, seed: 5 }));
  t.false(forest.feature.includes(5));
  for (let i = 0; i < 20; i++) t.is(treeShapContributions(forest, row(ROWS.x, i)).contributions[5], 0);
  const error = t.throws(() => treeShapContributions(forest, new Float64Array(D - 1)), { instanceOf: InvalidInputError });
  t.is(error?.message, `tree-shap: the model has ${D} features but the row has ${D - 1} values`);
});
