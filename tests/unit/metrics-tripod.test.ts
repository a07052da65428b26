import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../core/random.js';
import { rocAuc } from '../../activities/evaluate/metrics.js';
import { delongAuc } from '../../activities/evaluate/metrics-delong.js';
import { calibrationFit, decisionCurve } from '../../activities/evaluate/metrics-clinical.js';
import { BOOTSTRAP_METRICS, bootstrapIntervals, bootstrapReplicates, groupRowsByPatient } from '../../activities/evaluate/metrics-bootstrap.js';

/**
 * 700 test stays of 260 patients (a patient has 1-5 stays), scores rounded to two decimals so
 * ties are common, outcomes drawn from a risk that is neither the score nor its mean: the
 * calibration slope and intercept are far from 1 and 0, so a wrong fit cannot pass by accident.
 */
function fixture(): { scores: Float64Array; labels: Uint8Array; patients: string[] } {
  const rand = mulberry32(20261203);
  const scores: number[] = [];
  const labels: number[] = [];
  const patients: string[] = [];
  for (let p = 0; scores.length < 700; p++) {
    const stays = 1 + Math.floor(rand() * 5);
    const base = rand();
    for (let k = 0; k < stays && scores.length < 700; k++) {
      const s = Math.round(Math.min(0.99, Math.max(0.01, base * 0.8 + rand() * 0.2)) * 100) / 100;
      const z = 0.6 * Math.log(s / (1 - s)) - 0.4;
      scores.push(s);
      labels.push(rand() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
      patients.push(`patient-${p}`);
    }
  }
  return { scores: Float64Array.from(scores), labels: Uint8Array.from(labels), patients };
}

// Reference implementations: DeLong by its O(m x n) definition (psi kernel), the slope with
// scikit-learn's unpenalised LogisticRegression on logit(p), the intercept with logit(p) as an
// offset maximised by scipy, net benefit by its formula, ECE as calibration_curve bins it.
const SCRIPT = String.raw`
import json, sys, warnings
warnings.simplefilter('ignore', FutureWarning)  # penalty=None is deprecated in 1.8 but the only spelling older versions know
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss, log_loss
d = json.load(open(sys.argv[1]))
s0, y0 = np.array(d['scores']), np.array(d['labels'])
eps = np.finfo(float).eps
def delong(s, y):
  pos, neg = s[y == 1], s[y == 0]
  psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
  v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
  return psi.mean(), np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
def cal(s, y):
  z = np.log(np.clip(s, eps, 1 - eps) / (1 - np.clip(s, eps, 1 - eps)))
  lr = LogisticRegression(penalty=None, solver='newton-cholesky', tol=1e-12, max_iter=1000).fit(z[:, None], y)
  nll = lambda a: np.sum(np.logaddexp(0, a + z)) - np.sum(y * (a + z))
  a = minimize_scalar(nll, bracket=(-3, 3), tol=1e-12).x
  return float(lr.coef_[0][0]), float(a)
def ece(s, y):
  edges = np.linspace(0, 1, 11)
  ids = np.searchsorted(edges[1:-1], s)
  tot = 0.0
  for b in range(10):
    m = ids == b
    if m.any(): tot += m.sum() * abs(s[m].mean() - y[m].mean())
  return tot / len(s)
def metrics(s, y):
  slope, icpt = cal(s, y)
  return {'rocAuc': roc_auc_score(y, s), 'averagePrecision': average_precision_score(y, s), 'brier': brier_score_loss(y, s),
          'logLoss': log_loss(y, s), 'ece': ece(s, y), 'calibrationSlope': slope, 'calibrationIntercept': icpt}
auc, se = delong(s0, y0)
slope, icpt = cal(s0, y0)
n, prev = len(y0), y0.mean()
nb = []
for pt in d['thresholds']:
  f = s0 >= pt
  nb.append([np.sum(f & (y0 == 1)) / n - np.sum(f & (y0 == 0)) / n * pt / (1 - pt), prev - (1 - prev) * pt / (1 - pt)])
reps = [metrics(s0[r], y0[r]) for r in map(np.array, d['replicates'])]
ci = {k: [float(np.percentile([r[k] for r in reps], 2.5)), float(np.percentile([r[k] for r in reps], 97.5))] for k in reps[0]}
print(json.dumps({'auc': auc, 'se': se, 'slope': slope, 'intercept': icpt, 'netBenefit': nb, 'ci': ci}))
`;

interface Reference {
  auc: number;
  se: number;
  slope: number;
  intercept: number;
  netBenefit: [number, number][];
  ci: Record<string, [number, number]>;
}

const REPLICATES = 40;
const SEED = 7;

function runReference(data: ReturnType<typeof fixture>, thresholds: number[]): Reference {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-tripod-'));
  try {
    const file = join(dir, 'input.json');
    const replicates = [...bootstrapReplicates(groupRowsByPatient(data.patients), REPLICATES, SEED)].map((r) => Array.from(r));
    writeFileSync(file, JSON.stringify({ scores: Array.from(data.scores), labels: Array.from(data.labels), thresholds, replicates }));
    return JSON.parse(execFileSync('python3', ['-c', SCRIPT, file], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Reference;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const data = fixture();
const THRESHOLDS = [0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 0.9];
const reference = runReference(data, THRESHOLDS);

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol;

test('delongAuc matches the DeLong definition computed pair by pair in numpy', (t) => {
  const d = delongAuc(data.scores, data.labels);
  t.true(close(d.auc, reference.auc, 1e-12), `auc ${d.auc} vs ${reference.auc}`);
  t.true(close(d.auc, rocAuc(data.scores, data.labels), 1e-12), 'equal to rocAuc up to summation order');
  t.true(close(d.se, reference.se, 1e-12), `se ${d.se} vs ${reference.se}`);
  t.true(close(d.lower, reference.auc - 1.959963984540054 * reference.se, 1e-12));
  t.true(d.lower < d.auc && d.auc < d.upper);
});

test('delongAuc of the 6-sample hand case has the hand-computed structural components', (t) => {
  // Positives 0.9, 0.7, 0.4 against negatives 0.8, 0.7, 0.2: V10 = 1, 0.5, 1/3; V01 = 1/3, 0.5, 1.
  const d = delongAuc(Float64Array.from([0.9, 0.8, 0.7, 0.7, 0.4, 0.2]), Uint8Array.from([1, 0, 1, 0, 1, 0]));
  const v = [1, 0.5, 1 / 3];
  const mean = 5.5 / 9;
  const s = v.reduce((acc, x) => acc + (x - mean) ** 2, 0) / 2;
  t.true(close(d.auc, mean, 1e-15));
  t.true(close(d.se, Math.sqrt(s / 3 + s / 3), 1e-15));
});

test('calibrationFit agrees with unpenalised scikit-learn logistic regression and a scipy offset fit', (t) => {
  const fit = calibrationFit(data.scores, data.labels);
  t.true(close(fit.slope, reference.slope, 1e-7), `slope ${fit.slope} vs ${reference.slope}`);
  t.true(close(fit.intercept, reference.intercept, 1e-7), `intercept ${fit.intercept} vs ${reference.intercept}`);
  t.true(fit.slope < 0.9 && fit.intercept < -0.1, 'the fixture is miscalibrated, so the check is not trivially 1 and 0');
});

test('calibrationFit of perfectly separated scores reports an undefined slope, not a huge number', (t) => {
  const fit = calibrationFit(Float64Array.from([0.1, 0.2, 0.8, 0.9]), Uint8Array.from([0, 0, 1, 1]));
  t.true(Number.isNaN(fit.slope));
});

test('decisionCurve matches the net benefit formula evaluated in numpy', (t) => {
  const curve = decisionCurve(data.scores, data.labels, THRESHOLDS);
  t.is(curve.length, THRESHOLDS.length);
  curve.forEach((p, k) => {
    t.true(close(p.model, reference.netBenefit[k]![0], 1e-12), `model at ${p.threshold}`);
    t.true(close(p.treatAll, reference.netBenefit[k]![1], 1e-12), `treat-all at ${p.threshold}`);
  });
});

test('bootstrapIntervals are the percentiles of scikit-learn metrics over the same patient resamples', (t) => {
  const ci = bootstrapIntervals(data.scores, data.labels, data.patients, { replicates: REPLICATES, seed: SEED });
  for (const m of BOOTSTRAP_METRICS) {
    const [lo, hi] = reference.ci[m]!;
    t.is(ci[m].replicates, REPLICATES, m);
    t.true(close(ci[m].lower, lo, 1e-7) && close(ci[m].upper, hi, 1e-7), `${m}: [${ci[m].lower}, ${ci[m].upper}] vs [${lo}, ${hi}]`);
  }
});

test('bootstrap replicates draw whole patients, repeat for a seed and change with it', (t) => {
  const groups = groupRowsByPatient(data.patients);
  const stays = new Map<string, number>();
  for (const p of data.patients) stays.set(p, (stays.get(p) ?? 0) + 1);
  const [first] = bootstrapReplicates(groups, 1, SEED);
  const drawn = new Map<string, number>();
  for (const r of first!) drawn.set(data.patients[r]!, (drawn.get(data.patients[r]!) ?? 0) + 1);
  for (const [p, count] of drawn) t.is(count % stays.get(p)!, 0, `${p}'s stays come as a whole`);
  t.deepEqual([...bootstrapReplicates(groups, 3, SEED)], [...bootstrapReplicates(groups, 3, SEED)]);
  t.notDeepEqual([...bootstrapReplicates(groups, 1, SEED)], [...bootstrapReplicates(groups, 1, SEED + 1)]);
});
