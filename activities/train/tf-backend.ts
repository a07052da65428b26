/**
 * The TensorFlow.js backend of this worker: the fastest one installed, in the order
 * tfjs-node-gpu (CUDA), tfjs-node (native CPU), wasm, cpu. tfjs-node(-gpu) are not dependencies
 * (their install script downloads libtensorflow, which machines without internet cannot do): a GPU
 * node installs one (README, "GPU nodes") and this module finds it. Every candidate that was
 * tried and skipped is reported with its reason, so a missing GPU is visible, not silent.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';

export type Tf = typeof tfjs;
export const TF_BACKEND_CHOICES = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type TfBackendChoice = (typeof TF_BACKEND_CHOICES)[number];

export interface TfRuntime {
  tf: Tf;
  /** The package that provides the backend: tfjs-node-gpu, tfjs-node, wasm or cpu. */
  backend: Exclude<TfBackendChoice, 'auto'>;
  skipped: { backend: string; reason: string }[];
}

/**
 * The name a model's metadata records for the backend that trained it: the npm package for the
 * native ones (`tfjs-node-gpu`, `tfjs-node`), `tfjs-` and the TensorFlow.js backend for the others
 * (`tfjs-wasm`, `tfjs-cpu`); never a doubled prefix.
 */
export function tfBackendLabel(backend: TfRuntime['backend']): string {
  return backend.startsWith('tfjs-') ? backend : `tfjs-${backend}`;
}

type Loader = () => Promise<Tf>;

async function loadNative(pkg: string): Promise<Tf> {
  // A variable specifier keeps TypeScript from requiring the optional package at build time.
  const mod = (await import(pkg)) as Tf;
  if (mod.getBackend() !== 'tensorflow') await mod.setBackend('tensorflow');
  return mod;
}

async function loadJs(backend: 'wasm' | 'cpu'): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') returned false`);
  await tf.ready();
  return tf;
}

const LOADERS: Record<Exclude<TfBackendChoice, 'auto'>, Loader> = {
  'tfjs-node-gpu': () => loadNative('@tensorflow/tfjs-node-gpu'),
  'tfjs-node': () => loadNative('@tensorflow/tfjs-node'),
  wasm: () => loadJs('wasm'),
  cpu: () => loadJs('cpu'),
};

let cached: Promise<TfRuntime> | undefined;
let cachedChoice: TfBackendChoice | undefined;

/** Loads TensorFlow.js once per process with the chosen (or fastest available) backend. */
export function tfRuntime(choice: TfBackendChoice = 'auto'): Promise<TfRuntime> {
  if (cached && cachedChoice === choice) return cached;
  if (cached) throw new ConfigError(`TensorFlow.js is already loaded with backend choice "${cachedChoice}"; a process uses one backend`);
  cachedChoice = choice;
  cached = (async () => {
    const order = choice === 'auto' ? (['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const) : [choice];
    const skipped: TfRuntime['skipped'] = [];
    for (const backend of order) {
      try {
        return { tf: await LOADERS[backend](), backend, skipped };
      } catch (err) {
        const code = (err as { code?: string }).code;
        skipped.push({ backend, reason: code === 'ERR_MODULE_NOT_FOUND' ? 'not installed' : err instanceof Error ? err.message : String(err) });
      }
    }
    const reasons = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
    throw new ConfigError(choice === 'auto' ? `no TensorFlow.js backend could be loaded (${reasons})` : `TensorFlow.js backend ${reasons}`);
  })();
  return cached;
}
