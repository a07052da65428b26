/**
 * The tree families behind carepipe's one trainer shape (activities/train/families.ts): fit on
 * the row-major matrix the preprocessing pipeline produces, predict probabilities, serialize to
 * model.json (the header) plus model.bin (the node arrays), and load back.
 */
import { availableParallelism } from 'node:os';
import type { Table } from 'apache-arrow';
import { CorruptFileError, InvalidInputError } from '../../../core/errors.js';
import type { Hyperparameters } from '../../../schemas/workflows.js';
import { pauseActivity } from '../../context.js';
import { intOrFloatToFloat64 } from '../../io/parquet.js';
import type { TrainedModel } from '../trained-model.js';
import { type Forest, nodeCount, predictProba, predictProbaColumns, treeCount } from './forest.js';
import { BLOB_FILE, decodeForest, encodeForest } from './format.js';
import { fitGbdt } from './gbdt.js';
import { parseGbdtParams, parseRfParams, recordOf } from './params.js';
import { fitRandomForest } from './rf.js';
import type { LearnerOptions } from './training-data.js';

export const TREE_BACKEND = 'typescript-cpu';

/**
 * Histogram threads for gradient boosting in a training activity: the machine's cores (the model
 * does not depend on it). A random forest uses one: it parallelises across its sub-forest
 * activities instead, and its per-split feature samples make tasks too small to share (measured:
 * two threads no faster than one on 80,000 x 30 and on the 200,000-patient feature set).
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 16));
}

/** Heartbeats the running activity after each tree and stops if it was cancelled (a no-op outside one). */
function heartbeatTree(done: number, total: number): Promise<void> {
  return pauseActivity({ step: 'fit', tree: done, of: total });
}

/** A fitted forest as a TrainedModel. */
export function treeModel(forest: Forest, hyperparameters: Hyperparameters, training: Record<string, unknown>, trainSeconds?: number): TrainedModel {
  let encoded: ReturnType<typeof encodeForest> | undefined;
  const encode = () => (encoded ??= encodeForest(forest, { hyperparameters, ...training, trees: treeCount(forest), nodes: nodeCount(forest) }));
  return {
    backend: TREE_BACKEND,
    hyperparameters,
    predict: (x, n) => predictProba(forest, x, n, forest.nFeatures),
    serialize: () => JSON.stringify(encode().header, null, 2) + '\n',
    files: () => ({ [BLOB_FILE]: encode().blob }),
    ...(trainSeconds === undefined ? {} : { trainSeconds }),
  };
}

export async function trainGbdtModel(
  x: Float64Array,
  y: Uint8Array,
  n: number,
  d: number,
  h: Hyperparameters,
  options: LearnerOptions = {},
): Promise<TrainedModel> {
  const params = parseGbdtParams(h);
  const { forest, info } = await fitGbdt(x, y, n, d, params, { threads: defaultThreads(), onTree: heartbeatTree, ...options });
  return treeModel(forest, recordOf(params), { ...info });
}

/** The whole forest in this process (the workflow trains it as sub-forests instead: subforest.ts). */
export async function trainRfModel(
  x: Float64Array,
  y: Uint8Array,
  n: number,
  d: number,
  h: Hyperparameters,
  options: LearnerOptions = {},
): Promise<TrainedModel> {
  const params = parseRfParams(h);
  const forest = await fitRandomForest(x, y, n, d, params, { from: 0, to: params.nEstimators }, { threads: 1, onTree: heartbeatTree, ...options });
  return treeModel(forest, recordOf(params), { trainRows: n });
}

/** The forest of a model.json text and its model.bin bytes. */
export function loadTreeModel(modelJson: string, blob: Uint8Array): Forest {
  let header: unknown;
  try {
    header = JSON.parse(modelJson);
  } catch (cause) {
    throw new CorruptFileError('trees: model.json is not valid JSON', { cause });
  }
  return decodeForest(header, blob);
}

/**
 * P(y = 1) for the rows of an Arrow table whose columns `names` (in the model's feature order)
 * hold the transformed features; a null is a missing value. Each column becomes one Float64Array
 * (one copy, which also marks nulls as NaN) and the trees walk the columns directly.
 */
export function predictTable(forest: Forest, table: Table, names: readonly string[]): Float64Array {
  const columns = names.map((name) => {
    const vector = table.getChild(name);
    if (!vector) throw new InvalidInputError(`trees: the table has no column "${name}"`);
    return intOrFloatToFloat64(vector, name);
  });
  return predictProbaColumns(forest, columns, table.numRows);
}
