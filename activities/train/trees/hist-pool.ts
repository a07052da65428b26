/**
 * Histogram building spread over a pool of worker threads. The threads share the training data
 * with the main thread (SharedArrayBuffers allocated by `sharedTrainingArrays`); for each task
 * the main thread writes the node's row range and feature list into shared control words, wakes
 * the threads, builds its own share of the features, and waits for the rest (Atomics, no
 * messages). Each thread takes a contiguous part of the task's feature list, and each
 * feature's histogram is built by one thread in the same row order as on one thread, so the
 * model does not depend on the thread count. Tasks too small to pay for a wake-up (under
 * `minTaskCells` row x feature updates) run on the main thread alone.
 *
 * The main thread blocks while a task runs (milliseconds); the learners yield to the event loop
 * between trees, so heartbeats go out. A thread that throws marks the task failed and the build
 * throws; a thread that stops answering (killed from outside) ends the wait after
 * `stallSeconds` with a TransientError, and the activity is retried.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, TransientError } from '../../../core/errors.js';
import { type HistogramBuilder, type HistogramData, buildFeatureRange, copyUsedSlots, histogramLength } from './histogram.js';
import { CONTROL, type HistThreadData, shareOf } from './hist-thread.js';

export const HIST_THREAD_ENTRY = new URL('./hist-thread.js', import.meta.url);
export const MAX_HIST_THREADS = 64;
/** Row x feature updates below which a task stays on the main thread. */
export const DEFAULT_MIN_TASK_CELLS = 1 << 15;

/** Training arrays over SharedArrayBuffers, so the pool's threads read them in place. */
export function sharedTrainingArrays(n: number, d: number): { binned: Uint8Array; gh: Float64Array; rows: Uint32Array } {
  return {
    binned: new Uint8Array(new SharedArrayBuffer(n * d)),
    gh: new Float64Array(new SharedArrayBuffer(n * 16)),
    rows: new Uint32Array(new SharedArrayBuffer(n * 4)),
  };
}

export interface HistogramPoolOptions {
  /** Threads in all, the main thread included (2 starts one worker thread). */
  threads: number;
  minTaskCells?: number;
  stallSeconds?: number;
}

/** A pool over `data`, whose arrays must come from {@link sharedTrainingArrays}. With threads = 1, the inline builder's work. */
export function createHistogramPool(data: HistogramData, options: HistogramPoolOptions): HistogramBuilder {
  const threads = options.threads;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_HIST_THREADS) {
    throw new ConfigError(`trees: histogram threads must be a whole number from 1 to ${MAX_HIST_THREADS}, got ${threads}`);
  }
  const shared = [data.binned, data.gh, data.rows].every((a) => a.buffer instanceof SharedArrayBuffer);
  if (threads > 1 && !shared) throw new ConfigError('trees: a histogram pool needs training arrays from sharedTrainingArrays()');
  const entry = fileURLToPath(HIST_THREAD_ENTRY);
  if (threads > 1 && !existsSync(entry)) throw new ConfigError(`trees: the thread entry ${entry} does not exist; build with \`npx tsc -p tsconfig.json\``);
  const minTaskCells = options.minTaskCells ?? DEFAULT_MIN_TASK_CELLS;
  const stallMs = (options.stallSeconds ?? 300) * 1000;
  // With the WebAssembly kernels, every thread writes its features' histograms into the memory's output area.
  const out = data.wasm?.kernels.out ?? new Float64Array(new SharedArrayBuffer(histogramLength(data.d) * 8));
  const features = new Int32Array(new SharedArrayBuffer(Math.max(1, data.d) * 4));
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.LENGTH * 4));
  const workers: Worker[] = [];
  for (let t = 1; t < threads; t++) {
    const thread: HistThreadData = {
      binned: data.binned,
      gh: data.gh,
      rows: data.rows,
      valueBins: data.valueBins,
      n: data.n,
      d: data.d,
      out,
      features,
      control,
      index: t,
      stride: threads,
      ...(data.wasm ? { wasm: { memory: data.wasm.memory, layout: data.wasm.layout } } : {}),
    };
    const worker = new Worker(HIST_THREAD_ENTRY, { workerData: { kind: 'carepipe-hist', thread }, name: 'carepipe-hist' });
    worker.unref();
    workers.push(worker);
  }
  let closed = false;

  const build: HistogramBuilder['build'] = (hist, list, count, start, end, identity) => {
    if (threads === 1 || (end - start) * count < minTaskCells || count < 2) {
      buildFeatureRange(data, hist, list, 0, count, start, end, identity);
      return;
    }
    if (closed) throw new TransientError('trees: the histogram pool is closed');
    features.set(list.subarray(0, count));
    control[CONTROL.START] = start;
    control[CONTROL.END] = end;
    control[CONTROL.COUNT] = count;
    control[CONTROL.IDENTITY] = identity ? 1 : 0;
    Atomics.store(control, CONTROL.PENDING, threads - 1);
    Atomics.add(control, CONTROL.SEQ, 1);
    Atomics.notify(control, CONTROL.SEQ);
    const [from, to] = shareOf(count, 0, threads);
    buildFeatureRange(data, hist, list, from, to, start, end, identity);
    const since = Date.now();
    for (;;) {
      const pending = Atomics.load(control, CONTROL.PENDING);
      if (pending === 0) break;
      if (Atomics.wait(control, CONTROL.PENDING, pending, 1000) === 'timed-out' && Date.now() - since > stallMs) {
        throw new TransientError(`trees: histogram threads did not answer within ${stallMs / 1000} s`);
      }
    }
    if (Atomics.load(control, CONTROL.FAILED) === 1) throw new TransientError('trees: a histogram thread failed');
    copyUsedSlots(out, hist, list, to, count, data.valueBins);
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    Atomics.store(control, CONTROL.STOP, 1);
    Atomics.add(control, CONTROL.SEQ, 1);
    Atomics.notify(control, CONTROL.SEQ);
    await Promise.all(workers.map((w) => w.terminate()));
  };
  return { build, close };
}
