/**
 * Clinical-usefulness and calibration measures TRIPOD reports beside discrimination:
 * the decision curve (Vickers and Elkin 2006) and the calibration slope and intercept of a
 * logistic recalibration (Cox 1958; Van Calster et al. 2019).
 */
import { checkProbabilities, firstAtLeast, scoresByClass } from './metrics-input.js';

export interface DecisionCurvePoint {
  threshold: number;
  /** Net benefit of flagging rows with risk >= threshold: TP/n - FP/n * pt / (1 - pt). */
  model: number;
  /** Net benefit of flagging everyone: prevalence - (1 - prevalence) * pt / (1 - pt). Treat-none is 0. */
  treatAll: number;
}

/** Thresholds 0.01, 0.02, ... 0.99: the range a decision curve is drawn over. */
export const DECISION_THRESHOLDS: readonly number[] = Array.from({ length: 99 }, (_, k) => (k + 1) / 100);

/** Count of sorted[] entries >= v. */
const atOrAbove = (sorted: Float64Array, v: number): number => sorted.length - firstAtLeast(sorted, v);

export function decisionCurve(scores: Float64Array, labels: Uint8Array, thresholds: readonly number[] = DECISION_THRESHOLDS): DecisionCurvePoint[] {
  const positives = checkProbabilities('decisionCurve', scores, labels);
  const n = scores.length;
  const { pos, neg } = scoresByClass(scores, labels, positives);
  const prevalence = positives / n;
  return thresholds.map((pt) => {
    const odds = pt / (1 - pt);
    return {
      threshold: pt,
      model: atOrAbove(pos, pt) / n - (atOrAbove(neg, pt) / n) * odds,
      treatAll: prevalence - (1 - prevalence) * odds,
    };
  });
}

export interface CalibrationFit {
  /** b of logit P(y) = a + b logit(p): 1 when the spread of the risks is right, < 1 when too extreme. */
  slope: number;
  /** Calibration-in-the-large: a of logit P(y) = a + logit(p) (slope fixed at 1); 0 when the mean risk is right. */
  intercept: number;
}

/** Probabilities are clipped to [eps, 1 - eps] before the logit, as log loss clips them. */
function logit(p: number): number {
  const q = Math.min(1 - Number.EPSILON, Math.max(Number.EPSILON, p));
  return Math.log(q / (1 - q));
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/**
 * Maximum likelihood by Newton's method (the log-likelihood is concave, so it converges from
 * zero unless the classes are separated by logit(p), when the slope is infinite: NaN then).
 */
export function calibrationFit(scores: Float64Array, labels: Uint8Array): CalibrationFit {
  checkProbabilities('calibrationFit', scores, labels);
  return weightedCalibrationFit(Float64Array.from(scores, logit), labels, undefined);
}

/** logit(p) with p clipped as {@link calibrationFit} clips it. */
export const clippedLogit = logit;

/**
 * The fit over z = logit(p), each row counted weights[i] times (a bootstrap replicate as counts
 * of draws); no weights: once each. Inputs are not checked (the caller did).
 */
export function weightedCalibrationFit(z: Float64Array, labels: Uint8Array, weights: Float64Array | undefined, start?: CalibrationFit): CalibrationFit {
  const n = z.length;
  // A start near the answer (a bootstrap replicate starts from the full sample's fit) saves iterations.
  let a = start && Number.isFinite(start.slope) && Number.isFinite(start.intercept) ? start.intercept : 0;
  let b = start && Number.isFinite(start.slope) ? start.slope : 1;
  let slope = NaN;
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0; // prettier-ignore
    for (let i = 0; i < n; i++) {
      const wi = weights ? weights[i]! : 1;
      if (wi === 0) continue;
      const p = sigmoid(a + b * z[i]!);
      const r = wi * (labels[i]! - p);
      const w = wi * p * (1 - p);
      ga += r;
      gb += r * z[i]!;
      haa += w;
      hab += w * z[i]!;
      hbb += w * z[i]! * z[i]!;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(b) > 1e6) break;
    if (Math.abs(da) + Math.abs(db) < 1e-12 * (1 + Math.abs(a) + Math.abs(b))) {
      slope = b;
      break;
    }
  }
  let c = start && Number.isFinite(start.intercept) ? start.intercept : 0;
  let intercept = NaN;
  for (let iter = 0; iter < 100; iter++) {
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      const wi = weights ? weights[i]! : 1;
      if (wi === 0) continue;
      const p = sigmoid(c + z[i]!);
      g += wi * (labels[i]! - p);
      h += wi * p * (1 - p);
    }
    if (!(h > 0)) break;
    c += g / h;
    if (!Number.isFinite(c)) break;
    if (Math.abs(g / h) < 1e-12 * (1 + Math.abs(c))) {
      intercept = c;
      break;
    }
  }
  return { slope, intercept };
}
