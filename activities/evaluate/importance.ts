/**
 * Permutation importance: how much the held-out ROC AUC drops when one input feature's values
 * are shuffled across rows. A feature is a group of model columns (a numeric value and its
 * missing indicator; all one-hot columns of a categorical), shuffled together so the encoding
 * stays valid. Seeded, so the numbers repeat.
 */
import { InvalidInputError } from '../../core/errors.js';
import { rocAuc } from './metrics.js';

export interface FeatureGroup {
  feature: string;
  columns: readonly number[];
}

export interface Importance {
  feature: string;
  /** Mean drop in ROC AUC over the repeats (positive: the model relies on the feature). */
  importance: number;
  std: number;
}

function shuffle(n: number, seed: number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

export async function permutationImportance(
  predict: (x: Float64Array, n: number) => Float64Array,
  x: Float64Array,
  y: Uint8Array,
  n: number,
  d: number,
  groups: readonly FeatureGroup[],
  options: { repeats?: number; seed?: number; afterGroup?: (done: number, total: number) => Promise<void> } = {},
): Promise<Importance[]> {
  const repeats = options.repeats ?? 3;
  const seed = options.seed ?? 1;
  if (x.length !== n * d || y.length !== n) throw new InvalidInputError(`permutationImportance: expected ${n} x ${d} features and ${n} labels`);
  for (const g of groups)
    if (g.columns.some((c) => c < 0 || c >= d)) throw new InvalidInputError(`permutationImportance: feature "${g.feature}" names a column outside 0..${d - 1}`);
  const baseline = rocAuc(predict(x, n), y);
  const work = new Float64Array(x);
  const out: Importance[] = [];
  for (const [g, group] of groups.entries()) {
    const drops: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const order = shuffle(n, seed * 7919 + g * 104_729 + r);
      for (let i = 0; i < n; i++) for (const c of group.columns) work[i * d + c] = x[order[i]! * d + c]!;
      drops.push(baseline - rocAuc(predict(work, n), y));
      for (let i = 0; i < n; i++) for (const c of group.columns) work[i * d + c] = x[i * d + c]!; // restore
    }
    const mean = drops.reduce((a, b) => a + b, 0) / repeats;
    const std = Math.sqrt(drops.reduce((a, b) => a + (b - mean) ** 2, 0) / repeats);
    out.push({ feature: group.feature, importance: mean, std });
    // Features x repeats predictions of the test set: minutes for a large model, so the caller may pause.
    await options.afterGroup?.(g + 1, groups.length);
  }
  return out.sort((a, b) => b.importance - a.importance);
}
