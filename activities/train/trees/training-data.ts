/**
 * What both learners set up before growing trees: labels checked, bins fitted, the binned
 * columns, per-row gradient and hessian arrays and the row partition (over SharedArrayBuffers
 * when a histogram pool shares them), and the histogram builder.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InvalidInputError } from '../../../core/errors.js';
import { type BinMapper, binMatrix, fitBinMapper, valueBins } from './binning.js';
import { createGrowContext, type GrowContext } from './grower.js';
import { createHistogramPool, sharedTrainingArrays } from './hist-pool.js';
import { histogramData, inlineBuilder } from './histogram.js';
import { allocateTrainingMemory, bindKernels } from './hist-wasm.js';

export interface LearnerOptions {
  /** Threads building histograms, the calling one included (1: no pool). Results do not depend on it. */
  threads?: number;
  /** Called after each tree (it may be async: the learner awaits it). */
  onTree?: (done: number, total: number) => void | Promise<void>;
}

export interface BinnedTraining {
  mapper: BinMapper;
  ctx: GrowContext;
  /** Features with at least two value bins, ascending: a constant column can never split. */
  splittable: Int32Array;
  /** Rows binned (the training rows the trees are grown on). */
  m: number;
  close(): Promise<void>;
}

/** Counts positives; throws unless every label is 0 or 1 and both occur. */
export function checkLabels(family: string, y: Uint8Array, rows: number): number {
  if (y.length !== rows) throw new InvalidInputError(`${family}: ${y.length} labels for ${rows} rows`);
  let positives = 0;
  for (let i = 0; i < rows; i++) {
    const v = y[i]!;
    if (v > 1) throw new InvalidInputError(`${family}: label at row ${i} is not 0 or 1`);
    positives += v;
  }
  if (positives === 0 || positives === rows) throw new InvalidInputError(`${family}: the labels contain only one class`);
  return positives;
}

export function checkMatrix(family: string, x: Float64Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(d) || d < 1) throw new InvalidInputError(`${family}: the matrix needs n >= 2 rows and d >= 1 columns`);
  if (x.length !== n * d) throw new InvalidInputError(`${family}: the matrix has ${x.length} values, expected n * d = ${n * d}`);
}

/** Bins `rows` of x (all rows when null) and sets up the arrays and the histogram builder. */
export function prepareTraining(
  x: Float64Array,
  n: number,
  d: number,
  rows: Uint32Array | null,
  maxBins: number,
  seed: number,
  threads: number,
): BinnedTraining {
  const mapper = fitBinMapper(x, n, d, { maxBins, seed }, rows);
  const m = rows ? rows.length : n;
  // In a WebAssembly memory (shared with the pool's threads) for the SIMD kernels; past its 4 GiB, plain arrays and the JavaScript kernels.
  const memory = allocateTrainingMemory(m, d);
  const arrays =
    memory ?? (threads > 1 ? sharedTrainingArrays(m, d) : { binned: new Uint8Array(m * d), gh: new Float64Array(2 * m), rows: new Uint32Array(m) });
  binMatrix(mapper, x, n, d, rows, arrays.binned);
  const data = histogramData(arrays.binned, m, d, arrays.gh, arrays.rows, valueBins(mapper), memory ? bindKernels(memory.memory, memory.layout) : undefined);
  const histograms = threads > 1 ? createHistogramPool(data, { threads }) : inlineBuilder(data);
  const splittable = Int32Array.from(mapper.edges.flatMap((e, j) => (e.length > 0 ? [j] : [])));
  return { mapper, m, splittable, ctx: createGrowContext(data, mapper.edges, histograms), close: () => histograms.close() };
}

/** Lets the event loop run (heartbeats, cancellation) between trees. */
export async function betweenTrees(options: LearnerOptions, done: number, total: number): Promise<void> {
  await options.onTree?.(done, total);
  await yieldToLoop();
}
