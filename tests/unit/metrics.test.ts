import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';
import { mulberry32 } from '../../core/random.js';
import {
  averagePrecision,
  binaryMetrics,
  brierScore,
  calibration,
  expectedCalibrationError,
  logLoss,
  prCurve,
  rocAuc,
  rocCurve,
  subgroupMetrics,
  thresholdTable,
} from '../../activities/evaluate/metrics.js';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);
const u8 = (xs: number[]): Uint8Array => Uint8Array.from(xs);

// The 6-sample case worked by hand below.
const S6 = f64([0.9, 0.8, 0.7, 0.7, 0.4, 0.2]);
const Y6 = u8([1, 0, 1, 0, 1, 0]);

test('rocAuc is 1 for perfectly separated scores, 0 when reversed and 0.5 when all scores tie', (t) => {
  t.is(rocAuc(f64([0.1, 0.2, 0.8, 0.9]), u8([0, 0, 1, 1])), 1);
  t.is(rocAuc(f64([0.9, 0.8, 0.2, 0.1]), u8([0, 0, 1, 1])), 0);
  t.is(rocAuc(f64([0.5, 0.5, 0.5, 0.5]), u8([0, 1, 0, 1])), 0.5);
});

test('rocAuc of the 6-sample case counts a tied positive-negative pair as one half', (t) => {
  // Pairs won by each positive: 0.9 beats all 3 negatives; 0.7 beats 0.2, ties 0.7, loses to
  // 0.8 (1.5); 0.4 beats 0.2 (1). (3 + 1.5 + 1) / (3 * 3) = 5.5 / 9.
  t.is(rocAuc(S6, Y6), 5.5 / 9);
});

test('rocCurve and prCurve of the 6-sample case have one point per distinct score after the sentinel', (t) => {
  const roc = rocCurve(S6, Y6);
  t.deepEqual(Array.from(roc.thresholds), [Infinity, 0.9, 0.8, 0.7, 0.4, 0.2]);
  t.deepEqual(Array.from(roc.fpr), [0, 0, 1 / 3, 2 / 3, 2 / 3, 1]);
  t.deepEqual(Array.from(roc.tpr), [0, 1 / 3, 1 / 3, 2 / 3, 1, 1]);
  const pr = prCurve(S6, Y6);
  t.deepEqual(Array.from(pr.precision), [1, 1, 0.5, 0.5, 0.6, 0.5]);
  t.deepEqual(Array.from(pr.recall), [0, 1 / 3, 1 / 3, 2 / 3, 1, 1]);
});

test('averagePrecision of the 6-sample case sums recall steps times precision', (t) => {
  // Recall rises by 1/3 at 0.9 (precision 1), at 0.7 (2/4) and at 0.4 (3/5).
  t.true(Math.abs(averagePrecision(S6, Y6) - (1 + 0.5 + 0.6) / 3) < 1e-15);
});

test('brierScore and logLoss of the 6-sample case match the hand sums', (t) => {
  t.true(Math.abs(brierScore(S6, Y6) - (0.01 + 0.64 + 0.09 + 0.49 + 0.36 + 0.04) / 6) < 1e-15);
  const expected = -(Math.log(0.9) + Math.log(0.2) + Math.log(0.7) + Math.log(0.3) + Math.log(0.4) + Math.log(0.8)) / 6;
  t.true(Math.abs(logLoss(S6, Y6) - expected) < 1e-15);
  // A confident wrong prediction is clipped at machine epsilon, not infinite.
  t.true(Math.abs(logLoss(f64([0]), u8([1])) + Math.log(Number.EPSILON)) < 1e-12);
});

test('calibration with two uniform bins puts a score on the inner edge in the lower bin', (t) => {
  const bins = calibration(S6, Y6, 2);
  t.deepEqual(
    bins.map((b) => [b.lower, b.upper, b.count, b.fractionPositive]),
    [
      [0, 0.5, 2, 0.5],
      [0.5, 1, 4, 0.5],
    ],
  );
  t.true(Math.abs(bins[0]!.meanPredicted! - 0.3) < 1e-15);
  t.true(Math.abs(bins[1]!.meanPredicted! - 0.775) < 1e-15);
  // (2 * |0.3 - 0.5| + 4 * |0.775 - 0.5|) / 6
  t.true(Math.abs(expectedCalibrationError(S6, Y6, 2) - 0.25) < 1e-15);
  const edge = calibration(f64([0.5, 0.6]), u8([0, 1]), 2);
  t.deepEqual(
    edge.map((b) => b.count),
    [1, 1],
  );
  const empty = calibration(f64([0.9]), u8([1]), 2);
  t.deepEqual(empty[0], { lower: 0, upper: 0.5, count: 0, meanPredicted: null, fractionPositive: null });
});

test('thresholdTable flags scores at or above the threshold and derives the four rates', (t) => {
  const [row] = thresholdTable(S6, Y6, [0.7]);
  t.deepEqual(row, { threshold: 0.7, tp: 2, fp: 2, tn: 1, fn: 1, sensitivity: 2 / 3, specificity: 1 / 3, ppv: 0.5, npv: 0.5, flaggedRate: 4 / 6 });
  const table = thresholdTable(S6, Y6);
  t.is(table.length, 19);
  t.is(table[0]!.threshold, 0.05);
  t.is(table[18]!.threshold, 0.95);
  t.deepEqual(table[18], { threshold: 0.95, tp: 0, fp: 0, tn: 3, fn: 3, sensitivity: 0, specificity: 1, ppv: null, npv: 0.5, flaggedRate: 0 });
});

test('rocAuc and averagePrecision are NaN when the labels hold one class only', (t) => {
  t.true(Number.isNaN(rocAuc(f64([0.1, 0.2]), u8([1, 1]))));
  t.true(Number.isNaN(rocAuc(f64([0.1, 0.2]), u8([0, 0]))));
  t.true(Number.isNaN(averagePrecision(f64([0.1, 0.2]), u8([0, 0]))));
  t.is(averagePrecision(f64([0.1, 0.2]), u8([1, 1])), 1);
});

test('metrics reject mismatched lengths, empty input, bad labels and out-of-range probabilities', (t) => {
  const lengths = t.throws(() => rocAuc(f64([0.1, 0.2]), u8([1])), { instanceOf: InvalidInputError });
  t.is(lengths.message, 'rocAuc: scores has 2 entries but labels has 1');
  t.throws(() => brierScore(f64([]), u8([])), { instanceOf: InvalidInputError, message: 'brierScore: the input is empty' });
  t.throws(() => averagePrecision(f64([0.1, 0.2]), u8([0, 2])), { instanceOf: InvalidInputError, message: 'averagePrecision: label at row 1 is not 0 or 1' });
  t.throws(() => rocAuc(f64([NaN, 0.2]), u8([0, 1])), { instanceOf: InvalidInputError, message: 'rocAuc: score at row 0 is not a finite number' });
  t.throws(() => logLoss(f64([1.5]), u8([1])), { instanceOf: InvalidInputError, message: 'logLoss: score at row 0 is outside [0, 1]' });
  t.throws(() => subgroupMetrics(S6, Y6, ['a']), { instanceOf: InvalidInputError });
});

test('subgroupMetrics computes each group on its own rows and gives a null AUC to a one-class group', (t) => {
  const groups = ['f', 'm', 'f', 'm', 'f', 'x'];
  const rows = subgroupMetrics(S6, Y6, groups);
  t.deepEqual(
    rows.map((r) => [r.group, r.count, r.positives]),
    [
      ['f', 3, 3],
      ['m', 2, 0],
      ['x', 1, 0],
    ],
  );
  t.true(rows.every((r) => r.rocAuc === null));
  const mixed = subgroupMetrics(S6, Y6, ['a', 'a', 'a', 'b', 'b', 'b']);
  t.is(mixed[0]!.rocAuc, rocAuc(f64([0.9, 0.8, 0.7]), u8([1, 0, 1])));
  t.is(mixed[1]!.brier, brierScore(f64([0.7, 0.4, 0.2]), u8([0, 1, 0])));
  t.is(mixed[1]!.ece, expectedCalibrationError(f64([0.7, 0.4, 0.2]), u8([0, 1, 0])));
  // Dictionary codes give the same table in name order; names without rows are left out.
  const coded = subgroupMetrics(S6, Y6, { codes: Uint32Array.from([2, 2, 2, 0, 0, 0]), names: ['b', 'unused', 'a'] });
  t.deepEqual(coded, [mixed[1]!, mixed[0]!]);
});

/** ~2,000 scores rounded to 2 decimals (many ties, including exact 0 and 1) with labels. */
function referenceData(): { scores: Float64Array; labels: Uint8Array } {
  const rand = mulberry32(20240611);
  const n = 2000;
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const risk = rand();
    labels[i] = rand() < 0.15 + 0.7 * risk * risk ? 1 : 0;
    scores[i] = Math.round(Math.min(1, Math.max(0, risk + 0.15 * (rand() - 0.5))) * 100) / 100;
  }
  return { scores, labels };
}

const SKLEARN_SCRIPT = `
import json, sys, numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss, log_loss, roc_curve, precision_recall_curve
from sklearn.calibration import calibration_curve
d = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1)
s, y = d[:, 0], d[:, 1].astype(int)
fpr, tpr, th = roc_curve(y, s, drop_intermediate=False)
prec, rec, pth = precision_recall_curve(y, s)
out = {
  'rocAuc': roc_auc_score(y, s), 'ap': average_precision_score(y, s),
  'brier': brier_score_loss(y, s), 'logLoss': log_loss(y, s),
  'fpr': fpr.tolist(), 'tpr': tpr.tolist(), 'rocThresholds': th[1:].tolist(),
  'precision': prec[::-1].tolist(), 'recall': rec[::-1].tolist(), 'prThresholds': pth[::-1].tolist(),
}
for strategy, bins in (('uniform', 10), ('quantile', 10), ('quantile', 7)):
  frac, mean = calibration_curve(y, s, n_bins=bins, strategy=strategy)
  out[f'cal_{strategy}_{bins}'] = {'frac': frac.tolist(), 'mean': mean.tolist()}
print(json.dumps(out))
`;

interface SklearnReference {
  rocAuc: number;
  ap: number;
  brier: number;
  logLoss: number;
  fpr: number[];
  tpr: number[];
  rocThresholds: number[];
  precision: number[];
  recall: number[];
  prThresholds: number[];
  [calibration: `cal_${string}`]: { frac: number[]; mean: number[] };
}

function runSklearn(scores: Float64Array, labels: Uint8Array): SklearnReference {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-metrics-'));
  try {
    const csv = join(dir, 'scores.csv');
    const lines = ['score,label'];
    for (let i = 0; i < scores.length; i++) lines.push(`${scores[i]},${labels[i]}`);
    writeFileSync(csv, lines.join('\n') + '\n');
    const stdout = execFileSync('python3', ['-c', SKLEARN_SCRIPT, csv], { encoding: 'utf8' });
    return JSON.parse(stdout) as SklearnReference;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertClose(t: { true(v: boolean, m?: string): void }, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  t.true(actual.length === expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  t.true(worst <= tol, `${what}: max difference ${worst} > ${tol}`);
}

test('metrics on 2,000 tied scores agree with scikit-learn', (t) => {
  const { scores, labels } = referenceData();
  const ref = runSklearn(scores, labels);
  // AUC, AP and the curves are ratios of integer counts: equal up to float rounding.
  assertClose(t, [rocAuc(scores, labels)], [ref.rocAuc], 1e-12, 'rocAuc');
  assertClose(t, [averagePrecision(scores, labels)], [ref.ap], 1e-12, 'averagePrecision');
  // Brier and log loss are float sums in a different order: 1e-12 relative to a value ~0.2-0.6.
  assertClose(t, [brierScore(scores, labels)], [ref.brier], 1e-12, 'brierScore');
  assertClose(t, [logLoss(scores, labels)], [ref.logLoss], 1e-12, 'logLoss');
  const roc = rocCurve(scores, labels);
  assertClose(t, roc.fpr, ref.fpr, 1e-15, 'roc fpr');
  assertClose(t, roc.tpr, ref.tpr, 1e-15, 'roc tpr');
  t.deepEqual(Array.from(roc.thresholds.subarray(1)), ref.rocThresholds);
  t.true(roc.thresholds.length < 110, 'scores rounded to 2 decimals give at most 101 distinct thresholds');
  const pr = prCurve(scores, labels);
  assertClose(t, pr.precision, ref.precision, 1e-15, 'precision');
  assertClose(t, pr.recall, ref.recall, 1e-15, 'recall');
  t.deepEqual(Array.from(pr.thresholds.subarray(1)), ref.prThresholds);
  for (const [strategy, bins] of [
    ['uniform', 10],
    ['quantile', 10],
    ['quantile', 7],
  ] as const) {
    const filled = calibration(scores, labels, bins, strategy).filter((b) => b.count > 0);
    const expected = ref[`cal_${strategy}_${bins}`];
    if (expected === undefined) {
      t.fail(`scikit-learn returned no ${strategy} ${bins}-bin calibration`);
      continue;
    }
    assertClose(
      t,
      filled.map((b) => b.fractionPositive!),
      expected.frac,
      1e-12,
      `${strategy} ${bins} fraction positive`,
    );
    assertClose(
      t,
      filled.map((b) => b.meanPredicted!),
      expected.mean,
      1e-12,
      `${strategy} ${bins} mean predicted`,
    );
  }
  const summary = binaryMetrics(scores, labels);
  t.is(summary.count, 2000);
  t.is(summary.rocAuc, rocAuc(scores, labels));
  t.is(summary.ece, expectedCalibrationError(scores, labels));
});
