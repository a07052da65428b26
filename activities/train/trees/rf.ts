/**
 * Random forest on the histogram machinery: each tree grows on a bootstrap sample (draw
 * multiplicities become row weights: gradient w*y, hessian w, so a leaf's value G/H is the
 * weighted share of positives and the split gain is the decrease in weighted Gini impurity), looks
 * at a random subset of features at each split, and grows until its leaves are pure, hold
 * `minSamplesLeaf` rows or reach the depth or leaf bound. Predictions average the trees' leaf
 * probabilities.
 *
 * Tree t depends only on the data, the parameters and a stream seeded by (seed, t): trees
 * [from, to) grown anywhere are the same trees, so sub-forests trained in separate activities
 * and merged in order are the forest trained in one go (tests/unit/trees-forest.test.ts).
 */
import { InvalidInputError } from '../../../core/errors.js';
import type { Forest } from './forest.js';
import { ForestBuilder } from './forest.js';
import { STREAM } from './gbdt.js';
import { growTree, type TreeParams } from './grower.js';
import { type RfParams, featuresPerSplit } from './params.js';
import { Rng, deriveSeed } from './rng.js';
import { type LearnerOptions, betweenTrees, checkLabels, checkMatrix, prepareTraining } from './training-data.js';

/** Trees [from, to) of a forest of `nEstimators` trees. */
export interface TreeRange {
  from: number;
  to: number;
}

/** The trees sub-forest `part` of `parts` grows: an even split of 0..total in order. */
export function subForestRange(total: number, part: number, parts: number): TreeRange {
  return { from: Math.floor((part * total) / parts), to: Math.floor(((part + 1) * total) / parts) };
}

export async function fitRandomForest(
  x: Float64Array,
  y: Uint8Array,
  n: number,
  d: number,
  params: RfParams,
  range: TreeRange = { from: 0, to: params.nEstimators },
  options: LearnerOptions = {},
): Promise<Forest> {
  checkMatrix('rf', x, n, d);
  checkLabels('rf', y, n);
  if (!(Number.isInteger(range.from) && Number.isInteger(range.to) && range.from >= 0 && range.from <= range.to && range.to <= params.nEstimators)) {
    throw new InvalidInputError(`rf: tree range [${range.from}, ${range.to}) is not within 0..${params.nEstimators}`);
  }
  const train = prepareTraining(x, n, d, null, params.maxBins, params.seed, options.threads ?? 1);
  try {
    const { ctx } = train;
    const { gh, rows } = ctx.data;
    const forest = new ForestBuilder('rf', d, 0);
    const tree: TreeParams = {
      l2: 0,
      minSamplesLeaf: params.minSamplesLeaf,
      minHessianLeaf: 0,
      minGainToSplit: 0,
      maxLeaves: params.maxLeaves === 0 ? Infinity : params.maxLeaves,
      maxDepth: params.maxDepth === 0 ? Infinity : params.maxDepth,
      featuresPerNode: featuresPerSplit(params.maxFeatures, d),
      leafValue: (g, h) => (h > 0 ? g / h : 0),
    };
    const features = train.splittable;
    const draws = Math.max(1, Math.round(params.maxSamples * n));
    const weights = new Uint32Array(n);
    for (let t = range.from; t < range.to; t++) {
      const rng = new Rng(deriveSeed(params.seed, STREAM.bootstrap, t));
      let rowCount = 0;
      if (params.bootstrap) {
        weights.fill(0);
        for (let k = 0; k < draws; k++) {
          const r = rng.int(n);
          weights[r] = weights[r]! + 1;
        }
        for (let i = 0; i < n; i++) {
          const w = weights[i]!;
          gh[2 * i] = w * y[i]!;
          gh[2 * i + 1] = w;
          if (w > 0) rows[rowCount++] = i;
        }
      } else {
        for (let i = 0; i < n; i++) {
          gh[2 * i] = y[i]!;
          gh[2 * i + 1] = 1;
          rows[i] = i;
        }
        rowCount = n;
      }
      forest.beginTree();
      growTree(ctx, forest, rowCount, !params.bootstrap, features, tree, rng);
      await betweenTrees(options, t - range.from + 1, range.to - range.from);
    }
    return forest.finish();
  } finally {
    await train.close();
  }
}
