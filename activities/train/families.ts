/**
 * The trainer behind each model family id. One shape for all: fit on a row-major matrix, predict
 * probabilities, serialize. Families without a trainer yet fail as invalid input, never silently.
 * The tree families (gbdt, rf) are carepipe's histogram learners (activities/train/trees/).
 */
import { InvalidInputError } from '../../core/errors.js';
import type { Hyperparameters, ModelFamily } from '../../schemas/workflows.js';
import { fitLogReg, predictProba, serializeLogReg } from './logreg.js';
import { trainGbdtModel, trainRfModel } from './trees/model.js';

export interface TrainedModel {
  backend: string;
  hyperparameters: Hyperparameters;
  predict(x: Float64Array, n: number): Float64Array;
  serialize(): string;
  /** Files written beside model.json, by name (a tree model's node arrays: model.bin). */
  files?(): Record<string, Uint8Array>;
  /** Seconds the fit took where it did not run in this call (a forest's sub-forests, in their own activities). */
  trainSeconds?: number;
}

function numberParam(h: Hyperparameters, name: string, fallback: number): number {
  const v = h[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`hyperparameter ${name} must be a number`);
  return v;
}

export async function trainFamily(family: ModelFamily, x: Float64Array, y: Uint8Array, n: number, d: number, h: Hyperparameters): Promise<TrainedModel> {
  switch (family) {
    case 'logreg': {
      const hyperparameters = { l2: numberParam(h, 'l2', 1.0), maxIter: numberParam(h, 'maxIter', 100) };
      const model = fitLogReg(x, y, n, d, hyperparameters);
      return {
        backend: 'typescript-cpu',
        hyperparameters,
        predict: (xs, rows) => predictProba(model, xs, rows, d),
        serialize: () => serializeLogReg(model),
      };
    }
    case 'gbdt':
      return trainGbdtModel(x, y, n, d, h);
    case 'rf':
      return trainRfModel(x, y, n, d, h);
    case 'mlp':
      throw new InvalidInputError(`model family "${family}" has no trainer yet`);
  }
}
