/**
 * The best split of a node from its histograms. For each feature, bins are scanned left to
 * right accumulating the left child's gradient, hessian and count; the right child is the node's
 * totals minus the left. Missing values (the last histogram slot) are tried on each side and the
 * better side is learnt; when the node saw no missing value they go with the larger child (as in
 * scikit-learn), and "every present value left, missing right" is a candidate of its own.
 *
 * Gain is the decrease of the second-order objective,
 *   GL^2 / (HL + l2) + GR^2 / (HR + l2) - G^2 / (H + l2),
 * which with gradients -y, hessians 1 and l2 = 0 is the decrease in Gini impurity times the
 * node's weight: the random forest's criterion on the same machinery.
 *
 * Ties keep the first candidate (features in the order given, thresholds ascending, missing
 * right before missing left), so the choice is deterministic.
 */
import { MISSING_BIN } from './binning.js';
import { BIN_STRIDE, FEATURE_STRIDE } from './histogram.js';

export interface SplitConstraints {
  l2: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  /** A split must gain more than this. */
  minGainToSplit: number;
}

export interface SplitInfo {
  gain: number;
  feature: number;
  /** Rows whose bin is <= bin go left (missing values aside). */
  bin: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  cl: number;
}

export function emptySplit(): SplitInfo {
  return { gain: -Infinity, feature: -1, bin: 0, missingLeft: false, gl: 0, hl: 0, cl: 0 };
}

/** G^2 / (H + l2): the node's term in the gain. */
export function nodeScore(g: number, h: number, l2: number): number {
  return (g * g) / (h + l2);
}

/**
 * Updates `best` with the best split of feature `feature` from its histogram when that split
 * beats `best`. `bins` is the feature's number of value bins; g, h, c the node's totals.
 * Returns true when `best` changed.
 */
export function scanFeature(hist: Float64Array, feature: number, bins: number, g: number, h: number, c: number, k: SplitConstraints, best: SplitInfo): boolean {
  if (bins < 2) return false;
  const o = feature * FEATURE_STRIDE;
  const m = o + MISSING_BIN * BIN_STRIDE;
  const gm = hist[m]!;
  const hm = hist[m + 1]!;
  const cm = hist[m + 2]!;
  const { l2, minSamplesLeaf, minHessianLeaf } = k;
  const parent = nodeScore(g, h, l2);
  // The gain to beat, in the units of the left + right scores (saves a subtraction per candidate).
  let bar = Math.max(best.gain, k.minGainToSplit) + parent;
  let changed = false;
  let gl = 0;
  let hl = 0;
  let cl = 0;
  const last = o + (bins - 1) * BIN_STRIDE;
  for (let b = o; b < last; b += BIN_STRIDE) {
    const cb = hist[b + 2]!;
    // An empty bin gives the same partition as the threshold before it, which already competed.
    if (cb === 0) continue;
    gl += hist[b]!;
    hl += hist[b + 1]!;
    cl += cb;
    // Missing right (or no missing value at all).
    let gr = g - gl;
    let hr = h - hl;
    let cr = c - cl;
    if (cl >= minSamplesLeaf && cr >= minSamplesLeaf && hl >= minHessianLeaf && hr >= minHessianLeaf) {
      const s = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2);
      if (s > bar) {
        bar = s;
        changed = true;
        // With no missing value in the node, missing values follow the larger child.
        record(best, feature, (b - o) / BIN_STRIDE, cm === 0 && cl >= cr, gl, hl, cl);
      }
    }
    if (cm > 0) {
      // Missing left.
      const gl2 = gl + gm;
      const hl2 = hl + hm;
      const cl2 = cl + cm;
      gr = g - gl2;
      hr = h - hl2;
      cr = c - cl2;
      if (cl2 >= minSamplesLeaf && cr >= minSamplesLeaf && hl2 >= minHessianLeaf && hr >= minHessianLeaf) {
        const s = (gl2 * gl2) / (hl2 + l2) + (gr * gr) / (hr + l2);
        if (s > bar) {
          bar = s;
          changed = true;
          record(best, feature, (b - o) / BIN_STRIDE, true, gl2, hl2, cl2);
        }
      }
    }
  }
  if (cm > 0) {
    // Every present value left, missing values right.
    const cl2 = c - cm;
    if (cl2 >= minSamplesLeaf && cm >= minSamplesLeaf && h - hm >= minHessianLeaf && hm >= minHessianLeaf) {
      const gl2 = g - gm;
      const hl2 = h - hm;
      const s = (gl2 * gl2) / (hl2 + l2) + (gm * gm) / (hm + l2);
      if (s > bar) {
        bar = s;
        changed = true;
        record(best, feature, bins - 1, false, gl2, hl2, cl2);
      }
    }
  }
  if (changed) best.gain = bar - parent;
  return changed;
}

/** Writes a candidate split into `best` (its gain is set once the scan is done). */
function record(best: SplitInfo, feature: number, bin: number, missingLeft: boolean, gl: number, hl: number, cl: number): void {
  best.feature = feature;
  best.bin = bin;
  best.missingLeft = missingLeft;
  best.gl = gl;
  best.hl = hl;
  best.cl = cl;
}
