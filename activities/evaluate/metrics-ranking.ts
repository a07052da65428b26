/**
 * Ranking metrics: ROC and precision-recall curves, ROC AUC and average precision, matching
 * scikit-learn's roc_curve / roc_auc_score / precision_recall_curve / average_precision_score
 * (drop_intermediate=False).
 *
 * All of them derive from one sweep: the confusion counts at each distinct score, highest
 * first. The sweep sorts the positives' and the negatives' scores separately with the native
 * numeric typed-array sort (no comparator, no index array) and merges them from the top, so
 * tied scores fall into one step whatever their labels: this is what makes tie handling equal
 * to scikit-learn's (average rank for AUC, one point per distinct threshold for the curves).
 */
import { checkBinary, scoresByClass } from './metrics-input.js';

/** Cumulative true and false positives when flagging every score >= thresholds[k]. */
export interface ThresholdSweep {
  /** Distinct scores, descending. */
  thresholds: Float64Array;
  tps: Float64Array;
  fps: Float64Array;
  positives: number;
  negatives: number;
}

/** Points from the strictest threshold (+Infinity, nothing flagged) down to the lowest score. */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  thresholds: Float64Array;
}

/**
 * Points in the same order as {@link RocCurve}: the first is scikit-learn's end point
 * (recall 0, precision 1) with threshold +Infinity; then one point per distinct score.
 */
export interface PrCurve {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
}

export function sweepThresholds(scores: Float64Array, labels: Uint8Array, fn = 'sweepThresholds'): ThresholdSweep {
  const positives = checkBinary(fn, scores, labels);
  const n = scores.length;
  const { pos, neg } = scoresByClass(scores, labels, positives);
  const thresholds = new Float64Array(n);
  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  let k = 0;
  while (i >= 0 || j >= 0) {
    const top = Math.max(i >= 0 ? pos[i]! : -Infinity, j >= 0 ? neg[j]! : -Infinity);
    // `===` treats -0 and +0 as one score, as numpy does.
    while (i >= 0 && pos[i] === top) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === top) {
      fp++;
      j--;
    }
    thresholds[k] = top;
    tps[k] = tp;
    fps[k] = fp;
    k++;
  }
  return { thresholds: thresholds.slice(0, k), tps: tps.slice(0, k), fps: fps.slice(0, k), positives, negatives: n - positives };
}

/**
 * Area under the ROC curve by the trapezoid rule over the distinct thresholds, equal to the
 * Mann-Whitney statistic with average ranks for ties. Counts are integers, so the sum is exact
 * until the final division. Returns NaN when labels hold one class only (the curve is
 * undefined): callers decide whether that is an error (training) or a blank cell (a subgroup).
 */
export function rocAuc(scores: Float64Array, labels: Uint8Array): number {
  const { tps, fps, positives, negatives } = sweepThresholds(scores, labels, 'rocAuc');
  if (positives === 0 || negatives === 0) return NaN;
  let twiceArea = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < tps.length; k++) {
    twiceArea += (fps[k]! - prevFp) * (tps[k]! + prevTp);
    prevTp = tps[k]!;
    prevFp = fps[k]!;
  }
  return twiceArea / (2 * positives * negatives);
}

/** ROC points (0, 0) first; fpr (tpr) is NaN throughout when there are no negatives (positives). */
export function rocCurve(scores: Float64Array, labels: Uint8Array): RocCurve {
  const { thresholds, tps, fps, positives, negatives } = sweepThresholds(scores, labels, 'rocCurve');
  const m = thresholds.length + 1;
  const fpr = new Float64Array(m);
  const tpr = new Float64Array(m);
  const outThresholds = new Float64Array(m);
  outThresholds[0] = Infinity;
  outThresholds.set(thresholds, 1);
  for (let k = 1; k < m; k++) {
    fpr[k] = fps[k - 1]! / negatives;
    tpr[k] = tps[k - 1]! / positives;
  }
  if (negatives === 0) fpr.fill(NaN);
  if (positives === 0) tpr.fill(NaN);
  return { fpr, tpr, thresholds: outThresholds };
}

/** Precision-recall points; recall is NaN throughout when there are no positives. */
export function prCurve(scores: Float64Array, labels: Uint8Array): PrCurve {
  const { thresholds, tps, fps, positives } = sweepThresholds(scores, labels, 'prCurve');
  const m = thresholds.length + 1;
  const precision = new Float64Array(m);
  const recall = new Float64Array(m);
  const outThresholds = new Float64Array(m);
  precision[0] = 1;
  outThresholds[0] = Infinity;
  outThresholds.set(thresholds, 1);
  for (let k = 1; k < m; k++) {
    precision[k] = tps[k - 1]! / (tps[k - 1]! + fps[k - 1]!);
    recall[k] = positives === 0 ? NaN : tps[k - 1]! / positives;
  }
  return { precision, recall, thresholds: outThresholds };
}

/**
 * Average precision: sum over thresholds of (recall step) x precision, no interpolation, as
 * scikit-learn's average_precision_score. NaN when there are no positives (recall undefined).
 */
export function averagePrecision(scores: Float64Array, labels: Uint8Array): number {
  const { tps, fps, positives } = sweepThresholds(scores, labels, 'averagePrecision');
  if (positives === 0) return NaN;
  let sum = 0;
  let prevTp = 0;
  for (let k = 0; k < tps.length; k++) {
    const tp = tps[k]!;
    if (tp !== prevTp) sum += (tp - prevTp) * (tp / (tp + fps[k]!));
    prevTp = tp;
  }
  return sum / positives;
}
