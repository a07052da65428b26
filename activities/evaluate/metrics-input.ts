/**
 * Input checks shared by the metric functions. Scores are Float64Array, labels Uint8Array of
 * 0/1, same length, non-empty. Messages name the function and row, never a value.
 */
import { InvalidInputError } from '../../core/errors.js';

/** Checks lengths, labels in {0, 1} and finite scores; returns the count of positives. */
export function checkBinary(fn: string, scores: Float64Array, labels: Uint8Array): number {
  if (scores.length !== labels.length) {
    throw new InvalidInputError(`${fn}: scores has ${scores.length} entries but labels has ${labels.length}`);
  }
  if (scores.length === 0) throw new InvalidInputError(`${fn}: the input is empty`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y > 1) throw new InvalidInputError(`${fn}: label at row ${i} is not 0 or 1`);
    positives += y;
    if (!Number.isFinite(scores[i]!)) throw new InvalidInputError(`${fn}: score at row ${i} is not a finite number`);
  }
  return positives;
}

/** As {@link checkBinary}, and every score must be a probability in [0, 1]. */
export function checkProbabilities(fn: string, scores: Float64Array, labels: Uint8Array): number {
  const positives = checkBinary(fn, scores, labels);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (s < 0 || s > 1) throw new InvalidInputError(`${fn}: score at row ${i} is outside [0, 1]`);
  }
  return positives;
}

/** The scores of the positives and of the negatives, each sorted ascending (`positives`: their count, from the check). */
export function scoresByClass(scores: Float64Array, labels: Uint8Array, positives: number): { pos: Float64Array; neg: Float64Array } {
  const pos = new Float64Array(positives);
  const neg = new Float64Array(scores.length - positives);
  for (let i = 0, p = 0, q = 0; i < scores.length; i++) {
    if (labels[i] === 1) pos[p++] = scores[i]!;
    else neg[q++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  return { pos, neg };
}

/** Index of the first element >= t in an ascending array (its length when none). */
export function firstAtLeast(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
