/**
 * The trainer behind each model family id. One shape for all: fit on a row-major matrix, predict
 * probabilities, serialize. Families without a trainer yet fail as invalid input, never silently.
 * The tree families (gbdt, rf) are carepipe's histogram learners (activities/train/trees/).
 */
import { InvalidInputError } from '../../core/errors.js';
import type { Hyperparameters, ModelFamily } from '../../schemas/workflows.js';
import type { TrainedModel } from './trained-model.js';
import { logRegFit, predictProba, serializeLogReg } from './logreg.js';
import { DEFAULT_MLP, fitMlp, type MlpCheckpoint, type MlpOptions, predictMlp, serializeMlp } from './mlp.js';
import { type TfBackendChoice, tfBackendLabel, tfRuntime } from './tf-backend.js';
import { trainGbdtModel, trainRfModel } from './trees/model.js';

/** What a trainer may need from its activity: the TensorFlow.js backend, checkpoints, heartbeats. */
export interface TrainContext {
  tfBackend: TfBackendChoice;
  loadCheckpoint(): Promise<MlpCheckpoint | undefined>;
  saveCheckpoint(checkpoint: MlpCheckpoint): Promise<void>;
  progress(details: Record<string, number | string>): void;
  /** Between units of CPU-bound work: let the worker breathe, heartbeat, stop if cancelled (activities/context.ts pauseActivity). */
  pause?: (details: Record<string, number | string>) => Promise<void>;
}

function hiddenParam(h: Hyperparameters): number[] {
  const v = h.hidden ?? DEFAULT_MLP.hidden.join('-');
  const sizes = typeof v === 'number' ? [v] : String(v).split('-').map(Number);
  if (sizes.length === 0 || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 4096)) {
    throw new InvalidInputError('hyperparameter hidden must be layer sizes joined by "-", e.g. 64-32');
  }
  return sizes;
}

async function trainMlp(x: Float64Array, y: Uint8Array, n: number, d: number, h: Hyperparameters, ctx: TrainContext): Promise<TrainedModel> {
  const options: MlpOptions = {
    hidden: hiddenParam(h),
    epochs: numberParam(h, 'epochs', DEFAULT_MLP.epochs),
    batchSize: numberParam(h, 'batchSize', DEFAULT_MLP.batchSize),
    learningRate: numberParam(h, 'learningRate', DEFAULT_MLP.learningRate),
    l2: numberParam(h, 'l2', DEFAULT_MLP.l2),
    seed: numberParam(h, 'seed', DEFAULT_MLP.seed),
  };
  const runtime = await tfRuntime(ctx.tfBackend);
  const resumeFrom = await ctx.loadCheckpoint();
  let lastBeat = 0;
  const model = await fitMlp(runtime.tf, x, y, n, d, options, {
    ...(resumeFrom ? { resumeFrom } : {}),
    onBatch: (p) => {
      const now = Date.now();
      if (now - lastBeat < 2_000) return; // heartbeats are throttled by the SDK too; no need to flood it
      lastBeat = now;
      ctx.progress({ step: 'fit', epoch: p.epoch, batch: p.batch, batches: p.batches });
    },
    onEpochEnd: async (c) => {
      await ctx.saveCheckpoint(c);
      await ctx.pause?.({ step: 'fit', epoch: c.epoch });
    },
  });
  return {
    backend: tfBackendLabel(runtime.backend),
    hyperparameters: { ...options, hidden: options.hidden.join('-'), resumedFromEpoch: resumeFrom?.epoch ?? 0 },
    predict: (xs, rows) => predictMlp(model, xs, rows),
    serialize: () => serializeMlp(model),
  };
}

/** Per-tree pauses through the context, so its activity's heartbeats (and their details) all come one way. */
function treeProgress(ctx: TrainContext | undefined): { onTree?: (done: number, total: number) => Promise<void> } {
  const pause = ctx?.pause;
  return pause ? { onTree: (done, total) => pause({ step: 'fit', tree: done, of: total }) } : {};
}

function numberParam(h: Hyperparameters, name: string, fallback: number): number {
  const v = h[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidInputError(`hyperparameter ${name} must be a number`);
  return v;
}

export async function trainFamily(
  family: ModelFamily,
  x: Float64Array,
  y: Uint8Array,
  n: number,
  d: number,
  h: Hyperparameters,
  ctx?: TrainContext,
): Promise<TrainedModel> {
  switch (family) {
    case 'logreg': {
      const hyperparameters = { l2: numberParam(h, 'l2', 1.0), maxIter: numberParam(h, 'maxIter', 100) };
      const fit = logRegFit(x, y, n, d, hyperparameters);
      // One Newton iteration on a wide matrix is seconds of work: pause between them.
      while (!fit.step()) await ctx?.pause?.({ step: 'fit', iteration: fit.iterations });
      const model = fit.model();
      return {
        backend: 'typescript-cpu',
        hyperparameters,
        predict: (xs, rows) => predictProba(model, xs, rows, d),
        serialize: () => serializeLogReg(model),
      };
    }
    case 'gbdt':
      return trainGbdtModel(x, y, n, d, h, treeProgress(ctx));
    case 'rf':
      return trainRfModel(x, y, n, d, h, treeProgress(ctx));
    case 'mlp':
      if (!ctx) throw new InvalidInputError('mlp training needs a train context (backend, checkpoints)');
      return trainMlp(x, y, n, d, h, ctx);
  }
}
