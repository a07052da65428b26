/**
 * The layout of a gradient histogram (a leaf module shared by the JavaScript builders in
 * histogram.ts and the WebAssembly kernels in hist-wasm.ts): per feature, BIN_SLOTS bins of
 * (gradient sum, hessian sum, count) doubles, the missing bin among them.
 */
import { BIN_SLOTS, MISSING_BIN } from './binning.js';

/** Doubles per bin: gradient sum, hessian sum, count. */
export const BIN_STRIDE = 3;
/** Doubles per feature. */
export const FEATURE_STRIDE = BIN_SLOTS * BIN_STRIDE;
/** Offset of the missing bin's slots within a feature's. */
export const MISSING_SLOT = MISSING_BIN * BIN_STRIDE;

export function histogramLength(d: number): number {
  return d * FEATURE_STRIDE;
}

/** Zeroes the slots a feature with `bins` value bins uses: its value bins' and the missing bin's. */
export function zeroUsedSlots(hist: Float64Array, feature: number, bins: number): void {
  const o = feature * FEATURE_STRIDE;
  hist.fill(0, o, o + bins * BIN_STRIDE);
  hist.fill(0, o + MISSING_SLOT, o + FEATURE_STRIDE);
}
