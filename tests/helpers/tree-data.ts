/**
 * Small training sets for the tree tests: a noisy rule over a few features with missing values
 * (NaN) that carry signal, so trees split on them and route missing values both ways.
 */
import { Rng } from '../../activities/train/trees/rng.js';

export function noisyRuleData(n: number, d: number, seed: number): { x: Float64Array; y: Uint8Array } {
  const rng = new Rng(seed);
  const x = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.next() < 0.08 ? Number.NaN : j === 1 ? rng.int(8) : rng.next() * 2 - 1;
    const v = (j: number) => x[i * d + j]!;
    const z = 2 * (Number.isNaN(v(0)) ? 0.5 : v(0)) - (v(1) > 3 ? 1 : 0) + (Number.isNaN(v(2)) ? 1.5 : v(2) * v(3));
    y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { x, y };
}
