import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../core/errors.js';
import { mulberry32 } from '../../core/random.js';
import { fitLogReg, loadLogReg, predictProba, serializeLogReg, type LogRegOptions } from '../../activities/train/logreg.js';
import { choleskyInPlace, choleskySolve } from '../../activities/train/matrix.js';

const N = 20_000;
const D = 5;
const TRUE_INTERCEPT = -0.7;
const TRUE_COEF = [1.2, -0.8, 0.5, 0, 2.0];

/** Standard-normal features (Box-Muller) and labels drawn from the known logistic model. */
function syntheticData(seed = 7): { x: Float64Array; y: Uint8Array } {
  const rand = mulberry32(seed);
  const x = new Float64Array(N * D);
  const y = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    let z = TRUE_INTERCEPT;
    for (let j = 0; j < D; j++) {
      const v = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      x[i * D + j] = v;
      z += TRUE_COEF[j]! * v;
    }
    y[i] = rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { x, y };
}

const DATA = syntheticData();

/** Standard errors sqrt(diag(H^-1)) with H the Hessian of the log-likelihood at the estimate. */
function standardErrors(x: Float64Array, intercept: number, coef: readonly number[]): number[] {
  const p = D + 1;
  const h = new Float64Array(p * p);
  for (let i = 0; i < N; i++) {
    const row = [1, ...x.subarray(i * D, i * D + D)];
    let z = intercept;
    for (let j = 0; j < D; j++) z += coef[j]! * row[j + 1]!;
    const prob = 1 / (1 + Math.exp(-z));
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) h[a * p + b] = h[a * p + b]! + prob * (1 - prob) * row[a]! * row[b]!;
  }
  if (!choleskyInPlace(h, p)) throw new Error('Hessian not positive definite');
  return Array.from({ length: p }, (_, j) => {
    const unit = new Float64Array(p);
    unit[j] = 1;
    return Math.sqrt(choleskySolve(h, p, unit)[j]!);
  });
}

test('fitLogReg recovers the coefficients of a known logistic model within four standard errors', (t) => {
  // The maximum-likelihood estimate is asymptotically normal with covariance H^-1, so each
  // error exceeds 4 standard errors with probability ~6e-5; with n = 20,000 each standard error
  // is ~0.02-0.03 (asserted), so the test pins every coefficient to within ~0.1. A negligible
  // penalty (l2 = 1e-6) makes the fit the MLE.
  const model = fitLogReg(DATA.x, DATA.y, N, D, { l2: 1e-6 });
  t.true(model.converged);
  const se = standardErrors(DATA.x, model.intercept, model.coef);
  const estimates = [model.intercept, ...model.coef];
  const truth = [TRUE_INTERCEPT, ...TRUE_COEF];
  for (let j = 0; j <= D; j++) {
    t.true(se[j]! < 0.04, `standard error ${j} is ${se[j]}`);
    t.true(Math.abs(estimates[j]! - truth[j]!) < 4 * se[j]!, `parameter ${j}: ${estimates[j]} vs ${truth[j]} (se ${se[j]})`);
  }
  t.true(model.trainLogLoss > 0.3 && model.trainLogLoss < 0.6);
});

const SKLEARN_SCRIPT = `
import json, sys, numpy as np
from sklearn.linear_model import LogisticRegression
d = np.loadtxt(sys.argv[1], delimiter=',')
X, y = d[:, :-1], d[:, -1].astype(int)
out = []
for l2, cw in json.loads(sys.argv[2]):
  m = LogisticRegression(C=1.0 / l2, l1_ratio=0.0, solver='newton-cholesky', tol=1e-12, max_iter=1000,
                         class_weight=cw).fit(X, y)
  out.append({'intercept': float(m.intercept_[0]), 'coef': m.coef_[0].tolist()})
print(json.dumps(out))
`;

test('fitLogReg matches scikit-learn LogisticRegression with C = 1 / l2 to 1e-6', (t) => {
  // scikit-learn minimises C * sum(logloss) + 0.5 * ||w||^2 (intercept unpenalised), the same
  // minimiser as sum(logloss) + 0.5 * l2 * ||w||^2 with l2 = 1 / C. A strong penalty and
  // balanced class weights (on imbalanced labels) make both conventions matter.
  const rand = mulberry32(99);
  const imbalanced = Uint8Array.from(DATA.y, (v) => (v === 1 && rand() < 0.7 ? 0 : v));
  const cases: Array<{ labels: Uint8Array; options: LogRegOptions; sklearn: [number, string | null] }> = [
    { labels: DATA.y, options: {}, sklearn: [1, null] },
    { labels: DATA.y, options: { l2: 2000 }, sklearn: [2000, null] },
    { labels: imbalanced, options: { l2: 50, classWeight: 'balanced' }, sklearn: [50, 'balanced'] },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-logreg-'));
  try {
    for (const [k, c] of cases.entries()) {
      const lines: string[] = [];
      for (let i = 0; i < N; i++) lines.push([...DATA.x.subarray(i * D, i * D + D), c.labels[i]].join(','));
      writeFileSync(join(dir, `case${k}.csv`), lines.join('\n') + '\n');
      const stdout = execFileSync('python3', ['-c', SKLEARN_SCRIPT, join(dir, `case${k}.csv`), JSON.stringify([c.sklearn])], { encoding: 'utf8' });
      const [ref] = JSON.parse(stdout) as Array<{ intercept: number; coef: number[] }>;
      const model = fitLogReg(DATA.x, c.labels, N, D, c.options);
      t.true(model.converged);
      const diffs = [model.intercept - ref!.intercept, ...model.coef.map((v, j) => v - ref!.coef[j]!)].map(Math.abs);
      t.true(Math.max(...diffs) < 1e-6, `case ${k}: max difference ${Math.max(...diffs)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fitLogReg is deterministic and converges in a few Newton iterations', (t) => {
  const a = fitLogReg(DATA.x, DATA.y, N, D);
  const b = fitLogReg(DATA.x, DATA.y, N, D);
  t.deepEqual(a, b);
  t.true(a.converged);
  t.true(a.iterations <= 10, `took ${a.iterations} iterations`);
});

test('a fit whose steps cannot get below the step tolerance stops once the objective has nothing left to gain', (t) => {
  // A step tolerance no floating-point step reaches: only the Newton-decrement rule can stop the
  // fit. Without it, a 110,000 x 244 feature set ran to maxIter at its rounding floor.
  const loose = fitLogReg(DATA.x, DATA.y, N, D);
  const strict = fitLogReg(DATA.x, DATA.y, N, D, { tol: 1e-300, maxIter: 100 });
  t.true(strict.converged);
  t.true(strict.iterations <= loose.iterations + 2, `took ${strict.iterations} iterations`);
  for (let j = 0; j < D; j++) t.true(Math.abs(strict.coef[j]! - loose.coef[j]!) < 1e-9);
});

test('a serialised model loads back to the same model and identical predictions', (t) => {
  const model = fitLogReg(DATA.x, DATA.y, N, D);
  const loaded = loadLogReg(serializeLogReg(model));
  t.deepEqual(loaded, model);
  t.deepEqual(predictProba(loaded, DATA.x, N, D), predictProba(model, DATA.x, N, D));
  t.throws(() => loadLogReg('{"kind":"logreg","intercept":0}'), {
    instanceOf: InvalidInputError,
    message: 'logreg: model field "coef" is not an array of finite numbers',
  });
  t.throws(() => loadLogReg('not json'), { instanceOf: InvalidInputError });
});

test('predictProba computes the logistic of the linear predictor', (t) => {
  const model = { kind: 'logreg' as const, intercept: 0.5, coef: [1, -2], iterations: 0, converged: true, trainLogLoss: 0 };
  const p = predictProba(model, Float64Array.from([0, 0, 1, 1, -800, 0]), 3, 2);
  t.is(p[0], 1 / (1 + Math.exp(-0.5)));
  t.true(Math.abs(p[1]! - 1 / (1 + Math.exp(0.5))) < 1e-15);
  t.is(p[2], 0); // exp underflows without a NaN
  t.throws(() => predictProba(model, new Float64Array(3), 1, 3), {
    instanceOf: InvalidInputError,
    message: 'logreg: the model has 2 coefficients but the matrix has 3 columns',
  });
});

test('a NaN or infinite feature is rejected with the column index and no value', (t) => {
  const x = DATA.x.slice(0, 10 * D);
  x[7 * D + 3] = NaN;
  const err = t.throws(() => fitLogReg(x, DATA.y.slice(0, 10), 10, D), { instanceOf: InvalidInputError });
  t.is(err.message, 'logreg: feature column 3 has a non-finite value (NaN or infinity) at row 7; impute and scale before this step');
  x[7 * D + 3] = 0;
  x[2 * D + 0] = Infinity;
  t.throws(() => predictProba(fitLogReg(DATA.x, DATA.y, N, D), x, 10, D), { instanceOf: InvalidInputError, message: /feature column 0 .* at row 2/ });
});

test('fitLogReg rejects one-class labels, mismatched shapes and bad options', (t) => {
  const x = DATA.x.slice(0, 4 * D);
  t.throws(() => fitLogReg(x, new Uint8Array(4), 4, D), { instanceOf: InvalidInputError, message: 'logreg: the labels contain only one class' });
  t.throws(() => fitLogReg(x, Uint8Array.from([0, 1, 0]), 4, D), {
    instanceOf: InvalidInputError,
    message: 'logreg: labels has 3 entries but the matrix has 4 rows',
  });
  t.throws(() => fitLogReg(x, Uint8Array.from([0, 1, 0, 1]), 5, D), {
    instanceOf: InvalidInputError,
    message: 'logreg: the matrix has 20 values, expected n * d = 25',
  });
  t.throws(() => fitLogReg(x, Uint8Array.from([0, 1, 0, 1]), 4, D, { l2: -1 }), { instanceOf: InvalidInputError });
});
