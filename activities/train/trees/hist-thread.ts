/**
 * A histogram thread (hist-pool.ts starts it from dist/activities/train/trees/hist-thread.js).
 * It shares the binned columns, gradients, hessians and row partition with the main thread
 * (SharedArrayBuffers), waits on the control word for a task, builds the histograms of its share
 * of the task's features into the shared output, and counts itself done. No messages per task:
 * a task costs two futex wake-ups, so even the nodes of a deep tree can use the pool.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { buildFeatureRange, histogramData } from './histogram.js';
import { type TrainingLayout, bindKernels } from './hist-wasm.js';

export interface HistThreadData {
  binned: Uint8Array;
  gh: Float64Array;
  rows: Uint32Array;
  valueBins: Uint16Array;
  n: number;
  d: number;
  out: Float64Array;
  features: Int32Array;
  control: Int32Array;
  /** This thread's share: a contiguous part of the task's feature list (see shareOf). */
  index: number;
  stride: number;
  /** The training memory, when the arrays live in one: this thread runs the WebAssembly kernels on it, writing into its output area (`out`). */
  wasm?: { memory: WebAssembly.Memory; layout: TrainingLayout };
}

/** Slots of the control word array. */
export const CONTROL = { SEQ: 0, PENDING: 1, START: 2, END: 3, COUNT: 4, IDENTITY: 5, STOP: 6, FAILED: 7, LENGTH: 8 } as const;

/** The positions [from, to) of a task's `count` features that thread `index` of `threads` builds. */
export function shareOf(count: number, index: number, threads: number): [number, number] {
  return [Math.floor((index * count) / threads), Math.floor(((index + 1) * count) / threads)];
}

function serve(w: HistThreadData): void {
  const data = histogramData(w.binned, w.n, w.d, w.gh, w.rows, w.valueBins, w.wasm ? bindKernels(w.wasm.memory, w.wasm.layout) : undefined);
  const c = w.control;
  let seq = 0;
  for (;;) {
    Atomics.wait(c, CONTROL.SEQ, seq);
    seq = Atomics.load(c, CONTROL.SEQ);
    if (Atomics.load(c, CONTROL.STOP) === 1) return;
    try {
      const start = c[CONTROL.START]!;
      const end = c[CONTROL.END]!;
      const count = c[CONTROL.COUNT]!;
      const identity = c[CONTROL.IDENTITY] === 1;
      const [from, to] = shareOf(count, w.index, w.stride);
      buildFeatureRange(data, w.out, w.features, from, to, start, end, identity);
    } catch {
      Atomics.store(c, CONTROL.FAILED, 1);
    }
    if (Atomics.sub(c, CONTROL.PENDING, 1) === 1) Atomics.notify(c, CONTROL.PENDING);
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'carepipe-hist') serve((workerData as { thread: HistThreadData }).thread);
