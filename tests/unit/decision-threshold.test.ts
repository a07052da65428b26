/** The decision threshold batch scoring flags at when the metadata records none: the best F1 on the held-out predictions. */
import test from 'ava';
import { maxF1Threshold } from '../../activities/registry/decision-threshold.js';

/** F1 of flagging every score >= t, straight from the definition. */
function f1At(scores: number[], labels: number[], t: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    if (s >= t && labels[i] === 1) tp++;
    else if (s >= t) fp++;
    else if (labels[i] === 1) fn++;
  });
  return (2 * tp) / (2 * tp + fp + fn);
}

test('the threshold is the score whose F1 is highest, found by brute force over every distinct score', (t) => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 50; trial++) {
    // Scores on a coarse grid so ties occur; labels correlated with the score.
    const scores = Array.from({ length: 60 }, () => Math.round(next() * 20) / 20);
    const labels = scores.map((s) => (next() < s ? 1 : 0));
    const got = maxF1Threshold(Float64Array.from(scores), Float64Array.from(labels));
    const best = Math.max(...scores.map((s) => f1At(scores, labels, s)));
    t.is(f1At(scores, labels, got), best, `trial ${trial}`);
    // The highest threshold among the best: a stricter list for the same F1.
    t.is(got, Math.max(...scores.filter((s) => f1At(scores, labels, s) === best)));
  }
});

test('a perfectly separating score gives the lowest positive score as the threshold', (t) => {
  t.is(maxF1Threshold(Float64Array.from([0.1, 0.2, 0.35, 0.6, 0.9]), Float64Array.from([0, 0, 1, 1, 1])), 0.35);
});
