/**
 * Confusion counts and the derived rates at fixed decision thresholds: what a ward would see
 * if it flagged every patient whose risk is at or above the threshold.
 */
import { InvalidInputError } from '../../core/errors.js';
import { checkBinary, firstAtLeast, scoresByClass } from './metrics-input.js';

/** One row per threshold; a rate is null when its denominator is zero. */
export interface ThresholdRow {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  sensitivity: number | null;
  specificity: number | null;
  ppv: number | null;
  npv: number | null;
  /** Share of all rows flagged (score >= threshold). */
  flaggedRate: number;
}

/** 0.05, 0.10, ..., 0.95, each written as the nearest double to the decimal. */
export const DEFAULT_THRESHOLDS: readonly number[] = Array.from({ length: 19 }, (_, k) => (5 * (k + 1)) / 100);

export function thresholdTable(scores: Float64Array, labels: Uint8Array, thresholds: readonly number[] = DEFAULT_THRESHOLDS): ThresholdRow[] {
  const positives = checkBinary('thresholdTable', scores, labels);
  const n = scores.length;
  const { pos, neg } = scoresByClass(scores, labels, positives);
  const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);
  return thresholds.map((threshold, k) => {
    if (Number.isNaN(threshold)) throw new InvalidInputError(`thresholdTable: threshold ${k} is NaN`);
    const tp = pos.length - firstAtLeast(pos, threshold);
    const fp = neg.length - firstAtLeast(neg, threshold);
    const fn = pos.length - tp;
    const tn = neg.length - fp;
    return {
      threshold,
      tp,
      fp,
      tn,
      fn,
      sensitivity: ratio(tp, tp + fn),
      specificity: ratio(tn, tn + fp),
      ppv: ratio(tp, tp + fp),
      npv: ratio(tn, tn + fn),
      flaggedRate: (tp + fp) / n,
    };
  });
}
