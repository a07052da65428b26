import test from 'ava';
import { rocAuc } from '../../activities/evaluate/metrics.js';
import { fitMlp, loadMlp, type MlpCheckpoint, type MlpModel, type MlpOptions, predictMlp, serializeMlp } from '../../activities/train/mlp.js';
import { tfBackendLabel, tfRuntime } from '../../activities/train/tf-backend.js';
import { parseConfig, readEnv } from '../../core/config.js';

/** Labels from a known nonlinear rule (an interaction a linear model cannot express), seeded. */
function dataset(n: number, d: number, seed: number): { x: Float64Array; y: Uint8Array } {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const x = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = gauss();
    const z = 1.5 * x[i * d]! * x[i * d + 1]! + x[i * d + 2]! - 0.5;
    y[i] = next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
  }
  return { x, y };
}

const options: MlpOptions = { hidden: [16, 8], epochs: 4, batchSize: 128, learningRate: 0.01, l2: 1e-4, seed: 7 };
const train = dataset(4000, 6, 1);
const held = dataset(2000, 6, 2);

/** The backend the suite runs on: the one CAREPIPE_TF_BACKEND configures (README, "GPU nodes"), auto by default. */
const CHOICE = parseConfig(readEnv()).tfBackend;
const AUTO_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
/** TensorFlow.js's own name for each backend: both native packages register 'tensorflow'. */
const TF_NAME = { 'tfjs-node-gpu': 'tensorflow', 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' } as const;

test('the configured backend loads: a named one exactly, auto the fastest installed with every faster one reported as skipped', async (t) => {
  const runtime = await tfRuntime(CHOICE);
  t.is(runtime.tf.getBackend(), TF_NAME[runtime.backend]);
  if (CHOICE !== 'auto') {
    t.is(runtime.backend, CHOICE);
    t.deepEqual(runtime.skipped, []);
    return;
  }
  // wasm is a dependency, so auto never ends below it on a machine set up by `npm ci`.
  t.true(runtime.backend !== 'cpu', `auto fell to the cpu backend: ${JSON.stringify(runtime.skipped)}`);
  t.deepEqual(
    runtime.skipped.map((s) => s.backend),
    AUTO_ORDER.slice(0, AUTO_ORDER.indexOf(runtime.backend)),
  );
  for (const s of runtime.skipped) t.true(s.reason.length > 0, `${s.backend} is skipped with a reason`);
});

test('a model records the backend that trained it by its package or backend name, never a doubled prefix', (t) => {
  t.deepEqual(AUTO_ORDER.map(tfBackendLabel), ['tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu']);
});

test('the MLP learns an interaction a linear model cannot, on held-out rows', async (t) => {
  const { tf } = await tfRuntime(CHOICE);
  const model = await fitMlp(tf, train.x, train.y, 4000, 6, options);
  const auc = rocAuc(predictMlp(model, held.x, 2000), held.y);
  t.true(auc > 0.8, `held-out AUC ${auc}`);
  t.true(model.trainLoss < 0.6);
});

test('training is reproducible: the same seed gives the same weights', async (t) => {
  const { tf } = await tfRuntime(CHOICE);
  const a = await fitMlp(tf, train.x, train.y, 4000, 6, { ...options, epochs: 2 });
  const b = await fitMlp(tf, train.x, train.y, 4000, 6, { ...options, epochs: 2 });
  t.deepEqual(a.layers, b.layers);
});

function maxDifference(a: MlpModel, b: MlpModel): number {
  let max = 0;
  a.layers.forEach((layer, l) => {
    layer.weights.forEach((w, i) => (max = Math.max(max, Math.abs(w - b.layers[l]!.weights[i]!))));
    layer.bias.forEach((w, i) => (max = Math.max(max, Math.abs(w - b.layers[l]!.bias[i]!))));
  });
  return max;
}

test('a run resumed from an epoch checkpoint trains only the remaining epochs and ends where an uninterrupted run ends', async (t) => {
  const { tf } = await tfRuntime(CHOICE);
  const straight = await fitMlp(tf, train.x, train.y, 4000, 6, options);
  const checkpoints: MlpCheckpoint[] = [];
  await fitMlp(
    tf,
    train.x,
    train.y,
    4000,
    6,
    { ...options, epochs: 2 },
    {
      onEpochEnd: async (c) => void checkpoints.push(JSON.parse(JSON.stringify(c)) as MlpCheckpoint),
    },
  );
  t.deepEqual(
    checkpoints.map((c) => c.epoch),
    [1, 2],
  );
  const epochsTrained = new Set<number>();
  let batches = 0;
  const resumed = await fitMlp(tf, train.x, train.y, 4000, 6, options, {
    resumeFrom: checkpoints[1]!,
    onBatch: (p) => {
      epochsTrained.add(p.epoch);
      batches++;
    },
  });
  t.deepEqual([...epochsTrained], [2, 3]);
  t.is(batches, 2 * Math.ceil(4000 / 128));
  // Adam's bias corrections are recomputed in float32 on restore, so equal to float32 rounding.
  t.true(maxDifference(resumed, straight) < 1e-5, `max weight difference ${maxDifference(resumed, straight)}`);
  const restarted = await fitMlp(tf, train.x, train.y, 4000, 6, { ...options, epochs: 2 });
  t.true(maxDifference(restarted, straight) > 1e-2, 'a restart from scratch would not land there');
});

test('a saved model loads back to identical predictions, and a malformed one is refused', async (t) => {
  const { tf } = await tfRuntime(CHOICE);
  const model = await fitMlp(tf, train.x, train.y, 4000, 6, { ...options, epochs: 1 });
  const loaded = loadMlp(serializeMlp(model));
  t.deepEqual(Array.from(predictMlp(loaded, held.x, 2000)), Array.from(predictMlp(model, held.x, 2000)));
  const broken = { ...model, layers: [{ ...model.layers[0]!, bias: [] }] };
  t.throws(() => loadMlp(JSON.stringify(broken)), { message: 'mlp: not a carepipe MLP model' });
});
