/**
 * Gradient boosting for binary log-loss on the histogram machinery: trees fitted to the
 * gradients (p - y) and hessians p(1 - p) of the loss at the current raw scores, leaf values the
 * Newton step -G / (H + l2) times the learning rate, leaf-wise growth up to `maxLeaves`.
 * Early stopping holds out a stratified, seeded validation split of the training rows and stops
 * once its log-loss has not improved by more than `tol` for `nIterNoChange` trees; the model
 * keeps the trees up to its best iteration (LightGBM's choice; scikit-learn keeps the extra
 * trees too). Row and column samples, per tree and per split, come from seeded streams per tree.
 */
import { type Forest, ForestBuilder, sigmoid, treeValueAt } from './forest.js';
import { growTree, type TreeParams } from './grower.js';
import type { GbdtParams } from './params.js';
import { Rng, deriveSeed } from './rng.js';
import { sampleWithoutReplacement } from './binning.js';
import { type LearnerOptions, betweenTrees, checkLabels, checkMatrix, prepareTraining } from './training-data.js';

/** scikit-learn turns early stopping on ('auto') above this many rows. */
export const AUTO_EARLY_STOPPING_ROWS = 10_000;
export const STREAM = { validation: 1, rows: 2, columns: 3, nodes: 4, bootstrap: 5, binning: 6 } as const;

export interface GbdtInfo {
  /** Trees grown before stopping. */
  iterations: number;
  /** Trees kept. */
  trees: number;
  earlyStopped: boolean;
  trainRows: number;
  validationRows: number;
  /** Log-loss on the validation split at the kept iteration (null without early stopping). */
  validationLoss: number | null;
}

export interface GbdtResult {
  forest: Forest;
  info: GbdtInfo;
}

/** log(1 + e^-|z|) + max(z, 0) - y z: the log-loss at raw score z, without overflow. */
export function logLossAt(z: number, y: number): number {
  return Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - y * z;
}

/** A stratified split: round(fraction x count) of each class, seeded, both parts ascending. */
export function stratifiedHoldout(y: Uint8Array, n: number, fraction: number, rng: Rng): { fit: Uint32Array; holdout: Uint32Array } {
  const held = new Uint8Array(n);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (y[i] === cls) idx.push(i);
    const members = Uint32Array.from(idx);
    const k = Math.round(fraction * members.length);
    rng.shufflePrefix(members, k);
    for (let i = 0; i < k; i++) held[members[i]!] = 1;
  }
  const fit: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (held[i] ? holdout : fit).push(i);
  return { fit: Uint32Array.from(fit), holdout: Uint32Array.from(holdout) };
}

/** Gradient p - y and hessian p(1 - p) of the log-loss at each raw score, interleaved into gh. */
function logisticGradients(raw: Float64Array, y: Uint8Array, gh: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) {
    const p = sigmoid(raw[i]!);
    gh[2 * i] = p - y[i]!;
    gh[2 * i + 1] = p * (1 - p);
  }
}

function addToRange(raw: Float64Array, rows: Uint32Array, start: number, end: number, value: number): void {
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    raw[r] = raw[r]! + value;
  }
}

/** Adds one tree's output to raw[i] for the m fitted rows (row fit[i] of x, or row i). */
function addTree(forest: ForestBuilder, start: number, x: Float64Array, d: number, fit: Uint32Array | null, raw: Float64Array, m: number): void {
  for (let i = 0; i < m; i++) raw[i] = raw[i]! + treeValueAt(forest, start, x, d, fit ? fit[i]! : i);
}

/** Adds one tree's output to the held-out raw scores; returns their mean log-loss. */
function addTreeAndScore(forest: ForestBuilder, start: number, x: Float64Array, d: number, holdout: Uint32Array, y: Uint8Array, raw: Float64Array): number {
  let loss = 0;
  for (let j = 0; j < holdout.length; j++) {
    const r = holdout[j]!;
    raw[j] = raw[j]! + treeValueAt(forest, start, x, d, r);
    loss += logLossAt(raw[j]!, y[r]!);
  }
  return loss / holdout.length;
}

export async function fitGbdt(x: Float64Array, y: Uint8Array, n: number, d: number, params: GbdtParams, options: LearnerOptions = {}): Promise<GbdtResult> {
  checkMatrix('gbdt', x, n, d);
  checkLabels('gbdt', y, n);
  const early = params.earlyStopping === 'on' || (params.earlyStopping === 'auto' && n > AUTO_EARLY_STOPPING_ROWS);
  const { fit, holdout } = early
    ? stratifiedHoldout(y, n, params.validationFraction, new Rng(deriveSeed(params.seed, STREAM.validation)))
    : { fit: null, holdout: new Uint32Array(0) };
  const yFit = fit ? Uint8Array.from(fit, (r) => y[r]!) : y;
  const positives = checkLabels('gbdt', yFit, yFit.length);
  const train = prepareTraining(x, n, d, fit, params.maxBins, params.seed, options.threads ?? 1);
  try {
    const { ctx, m } = train;
    const { gh, rows } = ctx.data;
    const base = Math.log(positives / (m - positives));
    const forest = new ForestBuilder('gbdt', d, base);
    const raw = new Float64Array(m).fill(base);
    const validation = new Float64Array(holdout.length).fill(base);
    const lr = params.learningRate;
    const l2 = params.l2;
    const tree: TreeParams = {
      l2,
      minSamplesLeaf: params.minSamplesLeaf,
      minHessianLeaf: params.minHessianLeaf,
      minGainToSplit: params.minGainToSplit,
      maxLeaves: params.maxLeaves === 0 ? Infinity : params.maxLeaves,
      maxDepth: params.maxDepth === 0 ? Infinity : params.maxDepth,
      featuresPerNode: Infinity,
      leafValue: (g, h) => (h + l2 > 0 ? (-lr * g) / (h + l2) : 0),
    };
    const allFeatures = train.splittable;
    const treeFeatureCount = Math.max(1, Math.round(params.colsampleByTree * allFeatures.length));
    if (params.colsampleByNode < 1) tree.featuresPerNode = Math.max(1, Math.floor(params.colsampleByNode * treeFeatureCount));
    const sampledRows = Math.max(1, Math.round(params.subsample * m));

    let bestLoss = Infinity;
    let bestTrees = 0;
    let iterations = 0;
    let earlyStopped = false;
    for (let it = 0; it < params.maxIter; it++) {
      logisticGradients(raw, yFit, gh, m);
      let rowCount = m;
      const everyRow = sampledRows >= m;
      if (everyRow) {
        for (let i = 0; i < m; i++) rows[i] = i;
      } else {
        const sample = sampleWithoutReplacement(m, sampledRows, new Rng(deriveSeed(params.seed, STREAM.rows, it)));
        rows.set(sample);
        rowCount = sample.length;
      }
      let features = allFeatures;
      if (treeFeatureCount < allFeatures.length) {
        const shuffled = allFeatures.slice();
        new Rng(deriveSeed(params.seed, STREAM.columns, it)).shufflePrefix(shuffled, treeFeatureCount);
        features = shuffled.subarray(0, treeFeatureCount).sort();
      }
      forest.beginTree();
      const start = forest.currentStart;
      const leaves = growTree(ctx, forest, rowCount, everyRow, features, tree, new Rng(deriveSeed(params.seed, STREAM.nodes, it)));
      if (everyRow) {
        for (const leaf of leaves) addToRange(raw, rows, leaf.start, leaf.end, leaf.value);
      } else {
        addTree(forest, start, x, d, fit, raw, m);
      }
      iterations = it + 1;
      if (early) {
        const loss = addTreeAndScore(forest, start, x, d, holdout, y, validation);
        if (loss < bestLoss - params.tol || bestTrees === 0) {
          if (loss < bestLoss) bestLoss = loss;
          bestTrees = iterations;
        } else if (iterations - bestTrees >= params.nIterNoChange) {
          earlyStopped = true;
          await betweenTrees(options, iterations, params.maxIter);
          break;
        }
      }
      await betweenTrees(options, iterations, params.maxIter);
    }
    if (early) forest.truncate(bestTrees);
    const kept = early ? bestTrees : iterations;
    return {
      forest: forest.finish(),
      info: { iterations, trees: kept, earlyStopped, trainRows: m, validationRows: holdout.length, validationLoss: early ? bestLoss : null },
    };
  } finally {
    await train.close();
  }
}
