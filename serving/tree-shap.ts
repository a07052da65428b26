/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion, Lee 2018, "Consistent individualized feature
 * attribution for tree ensembles", Algorithm 2): the Shapley values of one row's prediction where
 * a feature outside the coalition follows both branches of a split in proportion to the training
 * rows (`cover`) that went each way. It is what the `shap` package's TreeExplainer computes with
 * feature_perturbation="tree_path_dependent", and tests/unit/tree-shap-reference.test.ts checks
 * the two agree on our trained forests.
 *
 * Output space: gbdt in log-odds (the raw margin before the logistic), rf in probability (the mean
 * of the trees' leaf probabilities). Local accuracy: base + sum(contributions) is the model's
 * output for the row. `base` is the expected output over the training rows (each tree's leaves
 * weighted by cover, plus gbdt's baseScore).
 *
 * The walk follows the forest's own split rule (activities/train/trees/forest.ts): x <= threshold
 * goes left, NaN goes to the side `missingLeft` names; anything else goes right. Cost: one row is
 * O(leaves x depth^2) per tree, fine for boosted trees (tens of leaves) and slow for deep random
 * forest trees (thousands of leaves, depth 20 and more: milliseconds a row per tree).
 */
import { InvalidInputError } from '../core/errors.js';
import type { Forest } from '../activities/train/trees/forest.js';

export interface TreeShap {
  /** The expected model output (margin for gbdt, probability for rf). */
  base: number;
  /** One value per feature, in the model's feature order. */
  contributions: Float64Array;
}

/** Per forest, computed once: each tree's cover-weighted expected value and depth. */
interface TreeStats {
  expected: Float64Array;
  maxDepth: number;
}
const statsCache = new WeakMap<Forest, TreeStats>();

function treeStats(f: Forest): TreeStats {
  let s = statsCache.get(f);
  if (s) return s;
  const trees = f.treeStart.length - 1;
  const expected = new Float64Array(trees);
  let maxDepth = 0;
  for (let t = 0; t < trees; t++) {
    const start = f.treeStart[t]!;
    // Children come after their parent (format.ts checks it), so a backward pass sees children first.
    const size = f.treeStart[t + 1]! - start;
    const e = new Float64Array(size);
    const depth = new Int32Array(size);
    for (let i = size - 1; i >= 0; i--) {
      const l = f.left[start + i]!;
      if (l < 0) {
        e[i] = f.value[start + i]!;
        continue;
      }
      const wl = f.cover[start + l]!;
      const wr = f.cover[start + l + 1]!;
      // shap's compute_expectations: weighted by the children's covers (they sum to the parent's).
      e[i] = wl + wr > 0 ? (wl * e[l]! + wr * e[l + 1]!) / (wl + wr) : 0;
      depth[i] = 1 + Math.max(depth[l]!, depth[l + 1]!);
    }
    expected[t] = e[0]!;
    maxDepth = Math.max(maxDepth, depth[0]!);
  }
  s = { expected, maxDepth };
  statsCache.set(f, s);
  return s;
}

/**
 * The path of unique features from the root to the current node, one slot per depth: the fraction
 * of "zero" paths (feature outside the coalition: the cover ratio) and of "one" paths (inside: 1 on
 * the row's side, 0 on the other) that flow through, and the permutation weights. Each recursion
 * level copies its parent's path into the next segment of these flat arrays (shap does the same).
 */
class PathStore {
  readonly feature: Int32Array;
  readonly zero: Float64Array;
  readonly one: Float64Array;
  readonly weight: Float64Array;
  constructor(maxDepth: number) {
    // A node at unique depth d starts its segment at most d(d+1)/2 + d and uses d + 1 slots.
    const size = ((maxDepth + 2) * (maxDepth + 3)) / 2;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.weight = new Float64Array(size);
  }
}

function extendPath(p: PathStore, at: number, depth: number, zero: number, one: number, feature: number): void {
  const { weight } = p;
  p.feature[at + depth] = feature;
  p.zero[at + depth] = zero;
  p.one[at + depth] = one;
  weight[at + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    weight[at + i + 1] = weight[at + i + 1]! + (one * weight[at + i]! * (i + 1)) / (depth + 1);
    weight[at + i] = (zero * weight[at + i]! * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: PathStore, at: number, depth: number, index: number): void {
  const { weight } = p;
  const one = p.one[at + index]!;
  const zero = p.zero[at + index]!;
  let next = weight[at + depth]!;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = weight[at + i]!;
      weight[at + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (weight[at + i]! * zero * (depth - i)) / (depth + 1);
    } else {
      weight[at + i] = (weight[at + i]! * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1]!;
    p.zero[at + i] = p.zero[at + i + 1]!;
    p.one[at + i] = p.one[at + i + 1]!;
  }
}

/** The total permutation weight of the path with element `index` unwound (without changing it). */
function unwoundPathSum(p: PathStore, at: number, depth: number, index: number): number {
  const { weight } = p;
  const one = p.one[at + index]!;
  const zero = p.zero[at + index]!;
  let next = weight[at + depth]!;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      next = weight[at + i]! - tmp * zero * ((depth - i) / (depth + 1));
    } else {
      total += weight[at + i]! / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

interface Walk {
  f: Forest;
  start: number;
  x: Float64Array;
  phi: Float64Array;
  scale: number;
  path: PathStore;
}

function recurse(w: Walk, node: number, parentAt: number, depth: number, zero: number, one: number, feature: number): void {
  const { f, start, path } = w;
  // This level's path: the parent's, copied one segment on, extended with the split that led here.
  // Segments lie one after another (a child's starts right after its parent's depth + 1 slots).
  const at = parentAt + depth + 1;
  // A plain loop: paths are a few elements long, where copyWithin's call costs more than the copy.
  for (let i = 0; i < depth; i++) {
    path.feature[at + i] = path.feature[parentAt + i]!;
    path.zero[at + i] = path.zero[parentAt + i]!;
    path.one[at + i] = path.one[parentAt + i]!;
    path.weight[at + i] = path.weight[parentAt + i]!;
  }
  extendPath(path, at, depth, zero, one, feature);
  const abs = start + node;
  const l = f.left[abs]!;
  if (l < 0) {
    const value = f.value[abs]! * w.scale;
    for (let i = 1; i <= depth; i++) {
      const s = unwoundPathSum(path, at, depth, i);
      const j = path.feature[at + i]!;
      w.phi[j] = w.phi[j]! + s * (path.one[at + i]! - path.zero[at + i]!) * value;
    }
    return;
  }
  const split = f.feature[abs]!;
  const v = w.x[split]!;
  const goesLeft = v <= f.threshold[abs]! || (v !== v && f.missingLeft[abs] === 1);
  const hot = goesLeft ? l : l + 1;
  const cold = goesLeft ? l + 1 : l;
  const cover = f.cover[start + l]! + f.cover[start + l + 1]!;
  const hotZero = f.cover[start + hot]! / cover;
  const coldZero = f.cover[start + cold]! / cover;
  let inZero = 1;
  let inOne = 1;
  // A feature met again on the path: undo its earlier split so it counts once.
  let k = 0;
  while (k <= depth && path.feature[at + k] !== split) k++;
  let d = depth;
  if (k <= depth) {
    inZero = path.zero[at + k]!;
    inOne = path.one[at + k]!;
    unwindPath(path, at, depth, k);
    d -= 1;
  }
  recurse(w, hot, at, d + 1, hotZero * inZero, inOne, split);
  recurse(w, cold, at, d + 1, coldZero * inZero, 0, split);
}

/** TreeSHAP contributions of one row (`x`: the transformed features, NaN for missing) of a forest. */
export function treeShapContributions(model: Forest, x: Float64Array): TreeShap {
  if (x.length !== model.nFeatures) throw new InvalidInputError(`tree-shap: the model has ${model.nFeatures} features but the row has ${x.length} values`);
  const { expected, maxDepth } = treeStats(model);
  const trees = model.treeStart.length - 1;
  const scale = model.kind === 'rf' ? (trees > 0 ? 1 / trees : 0) : 1;
  const phi = new Float64Array(model.nFeatures);
  const path = new PathStore(maxDepth);
  let base = model.kind === 'gbdt' ? model.baseScore : 0;
  for (let t = 0; t < trees; t++) {
    base += expected[t]! * scale;
    // A single-leaf tree gives every row its expectation: no contribution.
    const start = model.treeStart[t]!;
    if (model.left[start]! < 0) continue;
    recurse({ f: model, start, x, phi, scale, path }, 0, -1, 0, 1, 1, -1);
  }
  return { base, contributions: phi };
}
