/**
 * A multilayer perceptron for binary risk, trained with TensorFlow.js on whichever backend the
 * worker has (tf-backend.ts). The epoch and batch loop is ours, not `model.fit`: batches come
 * from a seeded shuffle (reproducible), progress is reported per batch (heartbeats), and after
 * each epoch the weights and the optimizer's state are handed out as a checkpoint, so a retried
 * attempt resumes exactly where the last one stopped. Prediction is a plain TypeScript forward
 * pass: serving needs no TensorFlow.js.
 */
import { InvalidInputError } from '../../core/errors.js';
import { mulberry32 } from '../../core/random.js';
import type { Tf } from './tf-backend.js';

export interface MlpOptions {
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export const DEFAULT_MLP: MlpOptions = { hidden: [64, 32], epochs: 8, batchSize: 256, learningRate: 1e-3, l2: 1e-4, seed: 1 };

export interface MlpLayer {
  /** Row-major inputs x units. */
  weights: number[];
  bias: number[];
  inputs: number;
  units: number;
  activation: 'relu' | 'sigmoid';
}

export interface MlpModel {
  kind: 'mlp';
  inputs: number;
  layers: MlpLayer[];
  epochs: number;
  trainLoss: number;
}

export interface MlpCheckpoint {
  /** Epochs completed. */
  epoch: number;
  loss: number;
  weights: { shape: number[]; values: number[] }[];
  optimizer: { name: string; shape: number[]; values: number[] }[];
}

export interface MlpHooks {
  resumeFrom?: MlpCheckpoint;
  onBatch?(p: { epoch: number; batch: number; batches: number; loss: number }): void;
  onEpochEnd?(checkpoint: MlpCheckpoint): Promise<void>;
}

function permutation(n: number, seed: number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  const r = mulberry32(seed); // tfjs's own shuffle is not seeded
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

function checkOptions(o: MlpOptions): void {
  const ok =
    o.hidden.length > 0 &&
    o.hidden.every((h) => Number.isInteger(h) && h > 0 && h <= 4096) &&
    Number.isInteger(o.epochs) &&
    o.epochs >= 1 &&
    Number.isInteger(o.batchSize) &&
    o.batchSize >= 1 &&
    o.learningRate > 0 &&
    o.l2 >= 0 &&
    Number.isInteger(o.seed);
  if (!ok) throw new InvalidInputError('mlp: hidden must be positive layer sizes; epochs, batchSize and seed whole numbers; learningRate > 0; l2 >= 0');
}

export async function fitMlp(tf: Tf, x: Float64Array, y: Uint8Array, n: number, d: number, options: MlpOptions, hooks: MlpHooks = {}): Promise<MlpModel> {
  checkOptions(options);
  if (x.length !== n * d || y.length !== n) throw new InvalidInputError(`mlp: expected ${n} x ${d} features and ${n} labels`);
  const model = tf.sequential();
  options.hidden.forEach((units, i) =>
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [d] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: options.seed + i }),
        kernelRegularizer: options.l2 > 0 ? tf.regularizers.l2({ l2: options.l2 }) : undefined,
      }),
    ),
  );
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + 1000 }) }));
  const optimizer = tf.train.adam(options.learningRate);
  model.compile({ optimizer, loss: 'binaryCrossentropy' });

  let startEpoch = 0;
  let loss = Number.NaN;
  if (hooks.resumeFrom) {
    const c = hooks.resumeFrom;
    model.setWeights(c.weights.map((w) => tf.tensor(w.values, w.shape)));
    await optimizer.setWeights(c.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape) })));
    startEpoch = c.epoch;
    loss = c.loss;
  }
  const batches = Math.ceil(n / options.batchSize);
  const xs = new Float32Array(options.batchSize * d);
  const ys = new Float32Array(options.batchSize);
  for (let epoch = startEpoch; epoch < options.epochs; epoch++) {
    const order = permutation(n, options.seed * 1_000_003 + epoch);
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      const from = b * options.batchSize;
      const size = Math.min(options.batchSize, n - from);
      for (let i = 0; i < size; i++) {
        const row = order[from + i]!;
        for (let j = 0; j < d; j++) xs[i * d + j] = x[row * d + j]!;
        ys[i] = y[row]!;
      }
      const bx = tf.tensor2d(xs.subarray(0, size * d), [size, d]);
      const by = tf.tensor2d(ys.subarray(0, size), [size, 1]);
      const batchLoss = (await model.trainOnBatch(bx, by)) as number;
      tf.dispose([bx, by]);
      sum += batchLoss * size;
      hooks.onBatch?.({ epoch, batch: b, batches, loss: batchLoss });
    }
    loss = sum / n;
    if (hooks.onEpochEnd) await hooks.onEpochEnd(await checkpoint(model, optimizer, epoch + 1, loss));
  }
  const result = toModel(model, d, options.epochs, loss);
  model.dispose();
  optimizer.dispose();
  return result;
}

async function checkpoint(
  model: { getWeights(): { shape: number[]; dataSync(): ArrayLike<number> }[] },
  optimizer: { getWeights(): Promise<{ name: string; tensor: { shape: number[]; dataSync(): ArrayLike<number> } }[]> },
  epoch: number,
  loss: number,
): Promise<MlpCheckpoint> {
  return {
    epoch,
    loss,
    weights: model.getWeights().map((w) => ({ shape: [...w.shape], values: Array.from(w.dataSync()) })),
    optimizer: (await optimizer.getWeights()).map((w) => ({ name: w.name, shape: [...w.tensor.shape], values: Array.from(w.tensor.dataSync()) })),
  };
}

function toModel(model: { getWeights(): { shape: number[]; dataSync(): ArrayLike<number> }[] }, d: number, epochs: number, trainLoss: number): MlpModel {
  const w = model.getWeights();
  const layers: MlpLayer[] = [];
  for (let i = 0; i < w.length; i += 2) {
    const kernel = w[i]!;
    const [inputs, units] = kernel.shape as [number, number];
    layers.push({
      weights: Array.from(kernel.dataSync()),
      bias: Array.from(w[i + 1]!.dataSync()),
      inputs,
      units,
      activation: i + 2 === w.length ? 'sigmoid' : 'relu',
    });
  }
  return { kind: 'mlp', inputs: d, layers, epochs, trainLoss };
}

/** Forward pass in plain TypeScript (float64): the same numbers on every machine, no TensorFlow.js. */
export function predictMlp(model: MlpModel, x: Float64Array, n: number): Float64Array {
  if (x.length !== n * model.inputs) throw new InvalidInputError(`mlp: expected ${n} x ${model.inputs} features`);
  const out = new Float64Array(n);
  const width = Math.max(model.inputs, ...model.layers.map((l) => l.units));
  let a = new Float64Array(width);
  let b = new Float64Array(width);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < model.inputs; j++) a[j] = x[r * model.inputs + j]!;
    for (const layer of model.layers) {
      for (let u = 0; u < layer.units; u++) {
        let z = layer.bias[u]!;
        for (let i = 0; i < layer.inputs; i++) z += a[i]! * layer.weights[i * layer.units + u]!;
        b[u] = layer.activation === 'relu' ? (z > 0 ? z : 0) : 1 / (1 + Math.exp(-z));
      }
      [a, b] = [b, a];
    }
    out[r] = a[0]!;
  }
  return out;
}

export function serializeMlp(model: MlpModel): string {
  return JSON.stringify(model);
}

export function loadMlp(text: string): MlpModel {
  const m = JSON.parse(text) as MlpModel;
  if (m.kind !== 'mlp' || !Array.isArray(m.layers) || m.layers.some((l) => l.weights.length !== l.inputs * l.units || l.bias.length !== l.units)) {
    throw new InvalidInputError('mlp: not a carepipe MLP model');
  }
  return m;
}
