/**
 * Gradient histograms: per feature, per bin, the sums of gradients, of hessians and the row
 * count, interleaved (three doubles a bin, 256 bins a feature) so one row touches one cache line
 * per feature. Gradients and hessians are interleaved too (`gh`: g0, h0, g1, h1, ...), one load
 * stream instead of two.
 *
 * The kernels take every array as its own argument and loop over one contiguous range: measured
 * on Node 20, that shape keeps V8's optimised loop tight (an object's fields read inside the loop
 * are re-checked each iteration). Features go four per pass (then two, then one), so each row's
 * gradient and hessian are loaded once for several features (measured: two per pass a quarter
 * faster than one, four another 5%). The same kernels run on the main thread and in the pool's threads
 * (hist-pool.ts); a feature's sums are added in row order whichever thread or pairing computes
 * them, so the result does not depend on the number of threads.
 *
 * When the training arrays live in a WebAssembly memory (the learners put them there when they
 * fit in 4 GiB), the builders run hist-wasm.ts's SIMD kernels instead, about 3x faster and bit for
 * bit the same sums; the kernels here are the reference the tests hold those to, and the path for
 * larger trainings.
 */
import { BIN_STRIDE, FEATURE_STRIDE, MISSING_SLOT, histogramLength, zeroUsedSlots } from './hist-layout.js';
import type { WasmTraining } from './hist-wasm.js';

/**
 * Nodes with fewer rows build with the JavaScript kernels straight into the node's buffer: below
 * this, zeroing the output area and copying each feature's slots back (768 doubles for a
 * 255-bin feature) costs more than the SIMD kernel saves (measured: a random forest's full trees,
 * mostly tiny nodes, were a third slower on the WebAssembly path alone). The sums are the same
 * either way.
 */
export const WASM_MIN_ROWS = 256;

export { BIN_STRIDE, FEATURE_STRIDE, histogramLength, zeroUsedSlots };

/** What the kernels read: binned columns, per-row gradient and hessian, the row partition. */
export interface HistogramData {
  /** Column-major: column j is binned[j * n .. (j + 1) * n). */
  binned: Uint8Array;
  /** Views of the columns of `binned`. */
  columns: Uint8Array[];
  n: number;
  d: number;
  /** Gradient and hessian of row r at 2r and 2r + 1. */
  gh: Float64Array;
  /** The partition: each node owns a contiguous range, rows ascending within it. */
  rows: Uint32Array;
  /** Value bins per feature: only slots 0..bins-1 and the missing slot are ever written. */
  valueBins: Uint16Array;
  /** When the arrays live in a WebAssembly memory (hist-wasm.ts): its kernels, which the builders then use. */
  wasm?: WasmTraining;
}

export function histogramData(
  binned: Uint8Array,
  n: number,
  d: number,
  gh: Float64Array,
  rows: Uint32Array,
  valueBins: Uint16Array,
  wasm?: WasmTraining,
): HistogramData {
  const columns = Array.from({ length: d }, (_, j) => binned.subarray(j * n, (j + 1) * n));
  return { binned, columns, n, d, gh, rows, valueBins, ...(wasm ? { wasm } : {}) };
}

function kernelPair(b1: Uint8Array, b2: Uint8Array, gh: Float64Array, h1: Float64Array, h2: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const j = i << 1;
    const g = gh[j]!;
    const h = gh[j + 1]!;
    const k1 = b1[i]! * BIN_STRIDE;
    h1[k1] = h1[k1]! + g;
    h1[k1 + 1] = h1[k1 + 1]! + h;
    h1[k1 + 2] = h1[k1 + 2]! + 1;
    const k2 = b2[i]! * BIN_STRIDE;
    h2[k2] = h2[k2]! + g;
    h2[k2 + 1] = h2[k2 + 1]! + h;
    h2[k2 + 2] = h2[k2 + 2]! + 1;
  }
}

function kernelQuad(
  b1: Uint8Array,
  b2: Uint8Array,
  b3: Uint8Array,
  b4: Uint8Array,
  gh: Float64Array,
  h1: Float64Array,
  h2: Float64Array,
  h3: Float64Array,
  h4: Float64Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const j = i << 1;
    const g = gh[j]!;
    const h = gh[j + 1]!;
    const k1 = b1[i]! * BIN_STRIDE;
    h1[k1] = h1[k1]! + g;
    h1[k1 + 1] = h1[k1 + 1]! + h;
    h1[k1 + 2] = h1[k1 + 2]! + 1;
    const k2 = b2[i]! * BIN_STRIDE;
    h2[k2] = h2[k2]! + g;
    h2[k2 + 1] = h2[k2 + 1]! + h;
    h2[k2 + 2] = h2[k2 + 2]! + 1;
    const k3 = b3[i]! * BIN_STRIDE;
    h3[k3] = h3[k3]! + g;
    h3[k3 + 1] = h3[k3 + 1]! + h;
    h3[k3 + 2] = h3[k3 + 2]! + 1;
    const k4 = b4[i]! * BIN_STRIDE;
    h4[k4] = h4[k4]! + g;
    h4[k4 + 1] = h4[k4 + 1]! + h;
    h4[k4 + 2] = h4[k4 + 2]! + 1;
  }
}

function kernelQuadRows(
  rows: Uint32Array,
  b1: Uint8Array,
  b2: Uint8Array,
  b3: Uint8Array,
  b4: Uint8Array,
  gh: Float64Array,
  h1: Float64Array,
  h2: Float64Array,
  h3: Float64Array,
  h4: Float64Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const j = r << 1;
    const g = gh[j]!;
    const h = gh[j + 1]!;
    const k1 = b1[r]! * BIN_STRIDE;
    h1[k1] = h1[k1]! + g;
    h1[k1 + 1] = h1[k1 + 1]! + h;
    h1[k1 + 2] = h1[k1 + 2]! + 1;
    const k2 = b2[r]! * BIN_STRIDE;
    h2[k2] = h2[k2]! + g;
    h2[k2 + 1] = h2[k2 + 1]! + h;
    h2[k2 + 2] = h2[k2 + 2]! + 1;
    const k3 = b3[r]! * BIN_STRIDE;
    h3[k3] = h3[k3]! + g;
    h3[k3 + 1] = h3[k3 + 1]! + h;
    h3[k3 + 2] = h3[k3 + 2]! + 1;
    const k4 = b4[r]! * BIN_STRIDE;
    h4[k4] = h4[k4]! + g;
    h4[k4 + 1] = h4[k4 + 1]! + h;
    h4[k4 + 2] = h4[k4 + 2]! + 1;
  }
}

function kernelPairRows(
  rows: Uint32Array,
  b1: Uint8Array,
  b2: Uint8Array,
  gh: Float64Array,
  h1: Float64Array,
  h2: Float64Array,
  start: number,
  end: number,
): void {
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const j = r << 1;
    const g = gh[j]!;
    const h = gh[j + 1]!;
    const k1 = b1[r]! * BIN_STRIDE;
    h1[k1] = h1[k1]! + g;
    h1[k1 + 1] = h1[k1 + 1]! + h;
    h1[k1 + 2] = h1[k1 + 2]! + 1;
    const k2 = b2[r]! * BIN_STRIDE;
    h2[k2] = h2[k2]! + g;
    h2[k2 + 1] = h2[k2 + 1]! + h;
    h2[k2 + 2] = h2[k2 + 2]! + 1;
  }
}

function kernelOne(b: Uint8Array, gh: Float64Array, h1: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const j = i << 1;
    const k = b[i]! * BIN_STRIDE;
    h1[k] = h1[k]! + gh[j]!;
    h1[k + 1] = h1[k + 1]! + gh[j + 1]!;
    h1[k + 2] = h1[k + 2]! + 1;
  }
}

function kernelOneRows(rows: Uint32Array, b: Uint8Array, gh: Float64Array, h1: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const j = r << 1;
    const k = b[r]! * BIN_STRIDE;
    h1[k] = h1[k]! + gh[j]!;
    h1[k + 1] = h1[k + 1]! + gh[j + 1]!;
    h1[k + 2] = h1[k + 2]! + 1;
  }
}

/** One feature's slots of a histogram buffer, the ones its bins use zeroed. */
function featureSlots(hist: Float64Array, feature: number, bins: number): Float64Array {
  zeroUsedSlots(hist, feature, bins);
  return hist.subarray(feature * FEATURE_STRIDE, (feature + 1) * FEATURE_STRIDE);
}

/**
 * Fills the histograms of features[from..to) over rows[start..end) (or rows start..end
 * themselves when `identity`: the partition is 0..n-1, as at the root of a tree grown on every row).
 */
export function buildFeatureRange(
  data: HistogramData,
  hist: Float64Array,
  features: Int32Array,
  from: number,
  to: number,
  start: number,
  end: number,
  identity: boolean,
): void {
  const { columns, gh, rows, valueBins } = data;
  if (data.wasm && end - start >= WASM_MIN_ROWS) {
    const { kernels } = data.wasm;
    kernels.accumulate(features, from, to, start, end, identity, valueBins);
    if (hist.buffer !== kernels.out.buffer || hist.byteOffset !== kernels.out.byteOffset) copyUsedSlots(kernels.out, hist, features, from, to, valueBins);
    return;
  }
  let i = from;
  for (; i + 3 < to; i += 4) {
    const f1 = features[i]!;
    const f2 = features[i + 1]!;
    const f3 = features[i + 2]!;
    const f4 = features[i + 3]!;
    const h1 = featureSlots(hist, f1, valueBins[f1]!);
    const h2 = featureSlots(hist, f2, valueBins[f2]!);
    const h3 = featureSlots(hist, f3, valueBins[f3]!);
    const h4 = featureSlots(hist, f4, valueBins[f4]!);
    if (identity) kernelQuad(columns[f1]!, columns[f2]!, columns[f3]!, columns[f4]!, gh, h1, h2, h3, h4, start, end);
    else kernelQuadRows(rows, columns[f1]!, columns[f2]!, columns[f3]!, columns[f4]!, gh, h1, h2, h3, h4, start, end);
  }
  for (; i + 1 < to; i += 2) {
    const f1 = features[i]!;
    const f2 = features[i + 1]!;
    const h1 = featureSlots(hist, f1, valueBins[f1]!);
    const h2 = featureSlots(hist, f2, valueBins[f2]!);
    if (identity) kernelPair(columns[f1]!, columns[f2]!, gh, h1, h2, start, end);
    else kernelPairRows(rows, columns[f1]!, columns[f2]!, gh, h1, h2, start, end);
  }
  if (i < to) {
    const f = features[i]!;
    const h1 = featureSlots(hist, f, valueBins[f]!);
    if (identity) kernelOne(columns[f]!, gh, h1, start, end);
    else kernelOneRows(rows, columns[f]!, gh, h1, start, end);
  }
}

/** Copies the slots the listed features use (their value bins and missing bin) from one histogram buffer to another. */
export function copyUsedSlots(from: Float64Array, to: Float64Array, features: Int32Array, first: number, last: number, valueBins: Uint16Array): void {
  // Plain loops: two subarray views per feature per node were a measurable share of the collector's work.
  for (let i = first; i < last; i++) {
    const f = features[i]!;
    const o = f * FEATURE_STRIDE;
    const used = o + valueBins[f]! * BIN_STRIDE;
    for (let k = o; k < used; k++) to[k] = from[k]!;
    for (let k = o + MISSING_SLOT; k < o + FEATURE_STRIDE; k++) to[k] = from[k]!;
  }
}

/** parent -= child, for the listed features: the sibling's histogram without a pass over its rows. */
export function subtractHistograms(parent: Float64Array, child: Float64Array, features: Int32Array, count: number, valueBins: Uint16Array): void {
  for (let i = 0; i < count; i++) {
    const f = features[i]!;
    const o = f * FEATURE_STRIDE;
    const used = o + valueBins[f]! * BIN_STRIDE;
    for (let k = o; k < used; k++) parent[k] = parent[k]! - child[k]!;
    for (let k = o + MISSING_SLOT; k < o + FEATURE_STRIDE; k++) parent[k] = parent[k]! - child[k]!;
  }
}

/** Builds histograms of the listed features; the main thread's builder or a thread pool. */
export interface HistogramBuilder {
  build(hist: Float64Array, features: Int32Array, count: number, start: number, end: number, identity: boolean): void;
  close(): Promise<void>;
}

/** Builds on the calling thread. */
export function inlineBuilder(data: HistogramData): HistogramBuilder {
  return {
    build(hist, features, count, start, end, identity) {
      buildFeatureRange(data, hist, features, 0, count, start, end, identity);
    },
    close: async () => {},
  };
}
