/**
 * Hyperparameters of the tree families, read from the workflow's loose `Hyperparameters` record
 * with defaults and range checks (an unknown name or a bad value is an InvalidInputError naming
 * it). The defaults are scikit-learn's (HistGradientBoostingClassifier, RandomForestClassifier),
 * which are also LightGBM's where the two share a knob. The resolved values are what the
 * registry records.
 */
import { InvalidInputError } from '../../../core/errors.js';
import type { Hyperparameters } from '../../../schemas/workflows.js';
import { MAX_BINS } from './binning.js';

export interface GbdtParams {
  maxIter: number;
  learningRate: number;
  /** 0: unbounded. */
  maxLeaves: number;
  /** 0: unbounded. */
  maxDepth: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  l2: number;
  minGainToSplit: number;
  maxBins: number;
  /** 'auto': on when there are more than 10,000 training rows (scikit-learn's rule). */
  earlyStopping: 'auto' | 'on' | 'off';
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  /** Fraction of rows each tree sees (without replacement). */
  subsample: number;
  /** Fraction of features each tree sees. */
  colsampleByTree: number;
  /** Fraction of the tree's features each split looks at. */
  colsampleByNode: number;
  seed: number;
}

export interface RfParams {
  nEstimators: number;
  /** 'sqrt', 'log2', or a fraction of the features in (0, 1]. */
  maxFeatures: 'sqrt' | 'log2' | number;
  /** 0: unbounded. */
  maxLeaves: number;
  /** 0: unbounded. */
  maxDepth: number;
  minSamplesLeaf: number;
  bootstrap: boolean;
  /** Bootstrap draws per tree as a fraction of the rows. */
  maxSamples: number;
  maxBins: number;
  seed: number;
  /** Sub-forest activities the workflow trains the forest in (the model does not depend on it). */
  subForests: number;
}

export const GBDT_DEFAULTS: GbdtParams = {
  maxIter: 100,
  learningRate: 0.1,
  maxLeaves: 31,
  maxDepth: 0,
  minSamplesLeaf: 20,
  minHessianLeaf: 1e-3,
  l2: 0,
  minGainToSplit: 0,
  maxBins: MAX_BINS,
  earlyStopping: 'auto',
  validationFraction: 0.1,
  nIterNoChange: 10,
  tol: 1e-7,
  subsample: 1,
  colsampleByTree: 1,
  colsampleByNode: 1,
  seed: 0,
};

export const RF_DEFAULTS: RfParams = {
  nEstimators: 100,
  maxFeatures: 'sqrt',
  maxLeaves: 0,
  maxDepth: 0,
  minSamplesLeaf: 1,
  bootstrap: true,
  maxSamples: 1,
  maxBins: MAX_BINS,
  seed: 0,
  subForests: 4,
};

type Check = (v: number) => boolean;
const wholeAtLeast =
  (min: number): Check =>
  (v) =>
    Number.isInteger(v) && v >= min;
const fraction: Check = (v) => v > 0 && v <= 1;
const nonNegative: Check = (v) => v >= 0 && Number.isFinite(v);

function reader(family: string, h: Hyperparameters, known: readonly string[]) {
  for (const name of Object.keys(h)) {
    if (!known.includes(name)) throw new InvalidInputError(`${family}: unknown hyperparameter "${name}"; known: ${known.join(', ')}`);
  }
  return {
    number(name: string, fallback: number, ok: Check, rule: string): number {
      const v = h[name] ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InvalidInputError(`${family}: hyperparameter ${name} must be ${rule}`);
      return v;
    },
    choice<T extends string>(name: string, fallback: T, options: readonly T[]): T {
      const v = h[name] ?? fallback;
      if (typeof v !== 'string' || !(options as readonly string[]).includes(v))
        throw new InvalidInputError(`${family}: hyperparameter ${name} must be one of ${options.join(', ')}`);
      return v as T;
    },
    flag(name: string, fallback: boolean): boolean {
      const v = h[name] ?? fallback;
      if (typeof v !== 'boolean') throw new InvalidInputError(`${family}: hyperparameter ${name} must be true or false`);
      return v;
    },
  };
}

export function parseGbdtParams(h: Hyperparameters): GbdtParams {
  const d = GBDT_DEFAULTS;
  const r = reader('gbdt', h, Object.keys(d));
  const early = h.earlyStopping;
  return {
    maxIter: r.number('maxIter', d.maxIter, wholeAtLeast(1), 'a whole number >= 1'),
    learningRate: r.number('learningRate', d.learningRate, (v) => v > 0 && v <= 10, 'in (0, 10]'),
    maxLeaves: r.number('maxLeaves', d.maxLeaves, (v) => v === 0 || wholeAtLeast(2)(v), 'a whole number >= 2, or 0 for unbounded'),
    maxDepth: r.number('maxDepth', d.maxDepth, wholeAtLeast(0), 'a whole number >= 1, or 0 for unbounded'),
    minSamplesLeaf: r.number('minSamplesLeaf', d.minSamplesLeaf, wholeAtLeast(1), 'a whole number >= 1'),
    minHessianLeaf: r.number('minHessianLeaf', d.minHessianLeaf, nonNegative, 'a number >= 0'),
    l2: r.number('l2', d.l2, nonNegative, 'a number >= 0'),
    minGainToSplit: r.number('minGainToSplit', d.minGainToSplit, nonNegative, 'a number >= 0'),
    maxBins: r.number('maxBins', d.maxBins, (v) => Number.isInteger(v) && v >= 2 && v <= MAX_BINS, `a whole number from 2 to ${MAX_BINS}`),
    // A boolean is accepted too (true = on).
    earlyStopping: typeof early === 'boolean' ? (early ? 'on' : 'off') : r.choice('earlyStopping', d.earlyStopping, ['auto', 'on', 'off'] as const),
    validationFraction: r.number('validationFraction', d.validationFraction, (v) => v > 0 && v < 1, 'in (0, 1)'),
    nIterNoChange: r.number('nIterNoChange', d.nIterNoChange, wholeAtLeast(1), 'a whole number >= 1'),
    tol: r.number('tol', d.tol, nonNegative, 'a number >= 0'),
    subsample: r.number('subsample', d.subsample, fraction, 'in (0, 1]'),
    colsampleByTree: r.number('colsampleByTree', d.colsampleByTree, fraction, 'in (0, 1]'),
    colsampleByNode: r.number('colsampleByNode', d.colsampleByNode, fraction, 'in (0, 1]'),
    seed: r.number('seed', d.seed, (v) => Number.isSafeInteger(v) && v >= 0, 'a whole number >= 0'),
  };
}

export function parseRfParams(h: Hyperparameters): RfParams {
  const d = RF_DEFAULTS;
  const r = reader('rf', h, Object.keys(d));
  const mf = h.maxFeatures ?? d.maxFeatures;
  let maxFeatures: RfParams['maxFeatures'];
  if (mf === 'sqrt' || mf === 'log2') maxFeatures = mf;
  else if (typeof mf === 'number' && fraction(mf)) maxFeatures = mf;
  else throw new InvalidInputError('rf: hyperparameter maxFeatures must be "sqrt", "log2" or a fraction in (0, 1]');
  return {
    nEstimators: r.number('nEstimators', d.nEstimators, wholeAtLeast(1), 'a whole number >= 1'),
    maxFeatures,
    maxLeaves: r.number('maxLeaves', d.maxLeaves, (v) => v === 0 || wholeAtLeast(2)(v), 'a whole number >= 2, or 0 for unbounded'),
    maxDepth: r.number('maxDepth', d.maxDepth, wholeAtLeast(0), 'a whole number >= 1, or 0 for unbounded'),
    minSamplesLeaf: r.number('minSamplesLeaf', d.minSamplesLeaf, wholeAtLeast(1), 'a whole number >= 1'),
    bootstrap: r.flag('bootstrap', d.bootstrap),
    maxSamples: r.number('maxSamples', d.maxSamples, fraction, 'in (0, 1]'),
    maxBins: r.number('maxBins', d.maxBins, (v) => Number.isInteger(v) && v >= 2 && v <= MAX_BINS, `a whole number from 2 to ${MAX_BINS}`),
    seed: r.number('seed', d.seed, (v) => Number.isSafeInteger(v) && v >= 0, 'a whole number >= 0'),
    subForests: r.number('subForests', d.subForests, (v) => Number.isInteger(v) && v >= 1 && v <= 256, 'a whole number from 1 to 256'),
  };
}

/** Features a random-forest split looks at, out of d. */
export function featuresPerSplit(maxFeatures: RfParams['maxFeatures'], d: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(d)));
  return Math.max(1, Math.floor(maxFeatures * d));
}

/** The parameters as a Hyperparameters record, for the registry. */
export function recordOf(p: GbdtParams | RfParams): Hyperparameters {
  return { ...p };
}
