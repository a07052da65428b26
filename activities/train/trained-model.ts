/** What every model family's trainer returns: a leaf module, so trainers and their dispatcher (families.ts) need not import each other. */
import type { Hyperparameters } from '../../schemas/workflows.js';

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
