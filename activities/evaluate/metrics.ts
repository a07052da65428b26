/**
 * Evaluation metrics for binary risk models: pure functions over Float64Array scores and
 * Uint8Array 0/1 labels, each matching its scikit-learn counterpart (checked against it in
 * tests/unit/metrics.test.ts). Every function throws InvalidInputError on a length mismatch,
 * empty input, a label other than 0/1 or a non-finite score; the probability metrics also
 * require scores in [0, 1].
 *
 * Undefined values: rocAuc with one class returns NaN and averagePrecision with no positives
 * returns NaN, so the caller decides (a training gate should fail; a subgroup table shows a
 * blank). Table-shaped outputs (calibration bins, threshold rows, subgroups) use null instead,
 * which survives JSON and YAML.
 */
import { calibration, calibrationErrorOfBins } from './metrics-calibration.js';
import { checkProbabilities } from './metrics-input.js';
import { brierScore, logLoss } from './metrics-probability.js';
import { averagePrecision, rocAuc } from './metrics-ranking.js';

export { sweepThresholds, rocAuc, rocCurve, prCurve, averagePrecision, type ThresholdSweep, type RocCurve, type PrCurve } from './metrics-ranking.js';
export { brierScore, logLoss } from './metrics-probability.js';
export { calibration, expectedCalibrationError, calibrationErrorOfBins, type CalibrationBin, type CalibrationStrategy } from './metrics-calibration.js';
export { thresholdTable, DEFAULT_THRESHOLDS, type ThresholdRow } from './metrics-threshold.js';
export { subgroupMetrics, type Groups, type SubgroupMetrics } from './metrics-subgroup.js';

/** The headline numbers of a held-out evaluation (model_metadata.yaml `metrics`). */
export interface BinaryMetrics {
  count: number;
  positives: number;
  /** NaN when the labels hold one class only. */
  rocAuc: number;
  /** NaN when there are no positives. */
  averagePrecision: number;
  brier: number;
  logLoss: number;
  /** Over 10 uniform bins. */
  ece: number;
}

export function binaryMetrics(scores: Float64Array, labels: Uint8Array): BinaryMetrics {
  const positives = checkProbabilities('binaryMetrics', scores, labels);
  return {
    count: scores.length,
    positives,
    rocAuc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    brier: brierScore(scores, labels),
    logLoss: logLoss(scores, labels),
    ece: calibrationErrorOfBins(calibration(scores, labels)),
  };
}
