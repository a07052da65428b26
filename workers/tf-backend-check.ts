/**
 * The start-up check of a training worker's TensorFlow.js backend. A worker told to train on a
 * named backend (CAREPIPE_TF_BACKEND=tfjs-node-gpu on a GPU node) that cannot load it must stop
 * before it polls, with a sentence naming the variable: otherwise it would take MLP tasks and fail
 * each one, or, worse, the operator would believe the GPU pool trains on GPUs. `auto` is not
 * loaded at start: it ends at the pure-JS cpu backend, a dependency, so it cannot fail there, and
 * loading TensorFlow.js costs every worker start (tests, demo) a second or two.
 */
import { ConfigError } from '../core/errors.js';
import type { QueueRole } from '../schemas/names.js';
import { type TfBackendChoice, type TfRuntime, tfRuntime } from '../activities/train/tf-backend.js';

const TRAINING_QUEUES: readonly QueueRole[] = ['trainCpu', 'trainGpu'];

/** What a node needs for each native backend (README, "GPU nodes"). */
const INSTALL_HINT: Partial<Record<TfBackendChoice, string>> = {
  'tfjs-node-gpu': 'it needs `npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0` on a node with CUDA 11.8 and cuDNN 8 (README, "GPU nodes")',
  'tfjs-node': 'it needs `npm install --no-save @tensorflow/tfjs-node@4.22.0`',
};

/**
 * Loads the configured backend when the worker serves a training queue and the choice is not
 * `auto`; returns the runtime (then cached for the training activities), or undefined when no
 * check applies. Thrown ConfigError: exit 2.
 */
export async function checkTfBackend(choice: TfBackendChoice, queues: readonly QueueRole[]): Promise<TfRuntime | undefined> {
  if (choice === 'auto' || !queues.some((q) => TRAINING_QUEUES.includes(q))) return undefined;
  try {
    return await tfRuntime(choice);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const hint = INSTALL_HINT[choice];
    throw new ConfigError(
      `CAREPIPE_TF_BACKEND=${choice}, but that TensorFlow.js backend cannot load in this worker (${why})${hint ? `; ${hint}` : ''}; set CAREPIPE_TF_BACKEND=auto to train on the best backend found instead.`,
      { cause: err },
    );
  }
}
