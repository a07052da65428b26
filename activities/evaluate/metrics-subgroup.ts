/**
 * Metrics per subgroup (sex, race, age band...): do the model's discrimination and calibration
 * hold in each group, not only on average?
 */
import { InvalidInputError } from '../../core/errors.js';
import { calibrationErrorOfBins, calibration } from './metrics-calibration.js';
import { checkProbabilities } from './metrics-input.js';
import { brierScore } from './metrics-probability.js';
import { rocAuc } from './metrics-ranking.js';

/** Groups as one string per row, or dictionary codes per row with the names they index. */
export type Groups = readonly string[] | { readonly codes: Uint32Array; readonly names: readonly string[] };

export interface SubgroupMetrics {
  group: string;
  count: number;
  positives: number;
  /** Null when the group holds one class only (AUC undefined). */
  rocAuc: number | null;
  brier: number;
  /** Expected calibration error over 10 uniform bins. */
  ece: number;
}

/**
 * One entry per group that has rows: in name order for coded groups, in code-point order of
 * the names for string groups. Groups with no rows are left out.
 */
export function subgroupMetrics(scores: Float64Array, labels: Uint8Array, groups: Groups): SubgroupMetrics[] {
  checkProbabilities('subgroupMetrics', scores, labels);
  const { codes, names } = toCodes(groups);
  const n = scores.length;
  if (codes.length !== n) throw new InvalidInputError(`subgroupMetrics: groups has ${codes.length} entries but scores has ${n}`);
  // Counting sort of row indices by group: one pass to size, one to place.
  const starts = new Uint32Array(names.length + 1);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (c >= names.length) throw new InvalidInputError(`subgroupMetrics: group code at row ${i} has no name`);
    starts[c + 1] = starts[c + 1]! + 1;
  }
  for (let g = 0; g < names.length; g++) starts[g + 1] = starts[g + 1]! + starts[g]!;
  const cursor = starts.slice(0, names.length);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    order[cursor[c]!] = i;
    cursor[c] = cursor[c]! + 1;
  }

  const out: SubgroupMetrics[] = [];
  for (let g = 0; g < names.length; g++) {
    const from = starts[g]!;
    const count = starts[g + 1]! - from;
    if (count === 0) continue;
    const s = new Float64Array(count);
    const y = new Uint8Array(count);
    let positives = 0;
    for (let k = 0; k < count; k++) {
      const row = order[from + k]!;
      s[k] = scores[row]!;
      y[k] = labels[row]!;
      positives += labels[row]!;
    }
    const auc = rocAuc(s, y);
    out.push({
      group: names[g]!,
      count,
      positives,
      rocAuc: Number.isNaN(auc) ? null : auc,
      brier: brierScore(s, y),
      ece: calibrationErrorOfBins(calibration(s, y)),
    });
  }
  return out;
}

function toCodes(groups: Groups): { codes: Uint32Array; names: readonly string[] } {
  if (!Array.isArray(groups)) return groups as { codes: Uint32Array; names: readonly string[] };
  const strings = groups as readonly string[];
  const distinct = [...new Set(strings)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(distinct.map((name, i) => [name, i]));
  const codes = new Uint32Array(strings.length);
  for (let i = 0; i < strings.length; i++) codes[i] = index.get(strings[i]!)!;
  return { codes, names: distinct };
}
