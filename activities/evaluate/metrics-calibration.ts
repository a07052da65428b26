/**
 * Reliability (calibration) bins and the expected calibration error, with the binning of
 * scikit-learn's calibration_curve: bin edges are linspace(0, 1) ('uniform') or the linear
 * percentiles of the scores ('quantile'), and a score equal to an inner edge falls in the bin
 * below it (numpy searchsorted, side 'left').
 */
import { InvalidInputError } from '../../core/errors.js';
import { checkProbabilities } from './metrics-input.js';

export type CalibrationStrategy = 'uniform' | 'quantile';

/** One bin; the means are null when the bin is empty. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  meanPredicted: number | null;
  fractionPositive: number | null;
}

export function calibration(scores: Float64Array, labels: Uint8Array, bins = 10, strategy: CalibrationStrategy = 'uniform'): CalibrationBin[] {
  checkProbabilities('calibration', scores, labels);
  if (!Number.isInteger(bins) || bins < 1) throw new InvalidInputError('calibration: bins must be a positive integer');
  const edges = strategy === 'uniform' ? uniformEdges(bins) : quantileEdges(scores, bins);
  const counts = new Float64Array(bins);
  const sums = new Float64Array(bins);
  const positives = new Float64Array(bins);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    // Count of inner edges (edges[1..bins-1]) strictly below s, by binary search.
    let lo = 1;
    let hi = bins;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    const b = lo - 1;
    counts[b] = counts[b]! + 1;
    sums[b] = sums[b]! + s;
    positives[b] = positives[b]! + labels[i]!;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const count = counts[b]!;
    out.push({
      lower: edges[b]!,
      upper: edges[b + 1]!,
      count,
      meanPredicted: count === 0 ? null : sums[b]! / count,
      fractionPositive: count === 0 ? null : positives[b]! / count,
    });
  }
  return out;
}

/** Count-weighted mean of |meanPredicted - fractionPositive| over the bins. */
export function expectedCalibrationError(scores: Float64Array, labels: Uint8Array, bins = 10, strategy: CalibrationStrategy = 'uniform'): number {
  return calibrationErrorOfBins(calibration(scores, labels, bins, strategy));
}

/** ECE from bins already computed (saves a second pass when both are reported). */
export function calibrationErrorOfBins(bins: readonly CalibrationBin[]): number {
  let total = 0;
  let weighted = 0;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    total += bin.count;
    weighted += bin.count * Math.abs(bin.meanPredicted! - bin.fractionPositive!);
  }
  return weighted / total;
}

/** numpy.linspace(0, 1, bins + 1): i * step, with the last edge exactly 1. */
function uniformEdges(bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const step = 1 / bins;
  for (let i = 0; i < bins; i++) edges[i] = i * step;
  edges[bins] = 1;
  return edges;
}

/**
 * numpy.percentile(scores, linspace(0, 1, bins + 1) * 100) with the default 'linear' method,
 * reproducing numpy's float steps (q * 100 / 100, its virtual index and its two-sided lerp) so
 * that a score lying on an edge is binned as scikit-learn bins it.
 */
function quantileEdges(scores: Float64Array, bins: number): Float64Array {
  const sorted = Float64Array.from(scores).sort();
  const n = sorted.length;
  const edges = new Float64Array(bins + 1);
  const step = 1 / bins;
  for (let i = 0; i <= bins; i++) {
    const q = ((i === bins ? 1 : i * step) * 100) / 100;
    const virtualIndex = n * q + (1 + q * -1) - 1;
    if (virtualIndex >= n - 1) {
      edges[i] = sorted[n - 1]!;
    } else if (virtualIndex < 0) {
      edges[i] = sorted[0]!;
    } else {
      const below = Math.floor(virtualIndex);
      const gamma = virtualIndex - below;
      const a = sorted[below]!;
      const b = sorted[below + 1]!;
      const diff = b - a;
      edges[i] = gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
    }
  }
  return edges;
}
