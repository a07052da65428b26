/**
 * Proper scoring rules for predicted probabilities: Brier score and log loss, matching
 * scikit-learn's brier_score_loss and log_loss for binary labels.
 */
import { checkProbabilities } from './metrics-input.js';

/** Mean squared difference between probability and label. */
export function brierScore(scores: Float64Array, labels: Uint8Array): number {
  checkProbabilities('brierScore', scores, labels);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const r = scores[i]! - labels[i]!;
    sum += r * r;
  }
  return sum / scores.length;
}

/**
 * Mean negative log-likelihood (natural log). Probabilities are clipped to
 * [eps, 1 - eps] with eps the float64 machine epsilon, as scikit-learn does, so a confident
 * wrong prediction costs about 36 rather than Infinity.
 */
export function logLoss(scores: Float64Array, labels: Uint8Array): number {
  checkProbabilities('logLoss', scores, labels);
  const eps = Number.EPSILON;
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i]!;
    // The probability of the observed class, clipped like scikit-learn's [1 - p, p] columns.
    const observed = labels[i] === 1 ? p : 1 - p;
    sum -= Math.log(Math.min(Math.max(observed, eps), 1 - eps));
  }
  return sum / scores.length;
}
