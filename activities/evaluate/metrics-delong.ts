/**
 * ROC AUC with its DeLong standard error and confidence interval (DeLong, DeLong and
 * Clarke-Pearson 1988), the interval TRIPOD asks for beside a c-statistic. The structural
 * components are counted by binary search over the sorted scores of each class (native typed
 * array sort, no comparator), so the cost is O(n log n) rather than the O(m x n) of the
 * definition; ties count one half, so the AUC equals {@link rocAuc}'s.
 */
import { checkBinary, firstAtLeast, scoresByClass } from './metrics-input.js';

/** Two-sided 97.5% quantile of the standard normal. */
export const Z_975 = 1.959963984540054;

export interface AucInterval {
  auc: number;
  /** DeLong standard error; NaN with fewer than two rows of either class. */
  se: number;
  /** auc -/+ 1.96 se, clipped to [0, 1]. */
  lower: number;
  upper: number;
}

/** Count of sorted[] entries strictly below v, plus half of those equal to it. */
function placement(sorted: Float64Array, v: number): number {
  const below = firstAtLeast(sorted, v);
  let lo = below;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return below + (lo - below) / 2;
}

function sampleVariance(xs: Float64Array, mean: number): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - mean) ** 2;
  return s / (xs.length - 1);
}

export function delongAuc(scores: Float64Array, labels: Uint8Array): AucInterval {
  const m = checkBinary('delongAuc', scores, labels);
  const n = scores.length - m;
  if (m === 0 || n === 0) return { auc: NaN, se: NaN, lower: NaN, upper: NaN };
  const { pos, neg } = scoresByClass(scores, labels, m);
  // V10[i]: the share of negatives a positive outranks; V01[j]: of positives a negative is outranked by.
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = placement(neg, pos[i]!) / n;
    sum += v10[i]!;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - placement(pos, neg[j]!) / m;
  const auc = sum / m;
  const se = m < 2 || n < 2 ? NaN : Math.sqrt(sampleVariance(v10, auc) / m + sampleVariance(v01, auc) / n);
  return { auc, se, lower: Math.max(0, auc - Z_975 * se), upper: Math.min(1, auc + Z_975 * se) };
}
