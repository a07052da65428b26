/**
 * Percentile bootstrap confidence intervals for the headline metrics, resampling patients (not
 * rows): a patient's stays are correlated, so resampling rows would understate the spread
 * whenever a patient has several test stays. Seeded (mulberry32), so the same predictions give
 * the same intervals. A replicate in which a metric is undefined (one class drawn) is left out of
 * that metric's interval, and the count of replicates kept is reported.
 */
import { InvalidInputError } from '../../core/errors.js';
import { mulberry32 } from '../../core/random.js';
import { checkProbabilities } from './metrics-input.js';
import { WeightedScores } from './metrics-weighted.js';

export const BOOTSTRAP_METRICS = ['rocAuc', 'averagePrecision', 'brier', 'logLoss', 'ece', 'calibrationSlope', 'calibrationIntercept'] as const;
export type BootstrapMetric = (typeof BOOTSTRAP_METRICS)[number];

export interface Interval {
  lower: number;
  upper: number;
  /** Replicates in which the metric was defined. */
  replicates: number;
}

export interface BootstrapOptions {
  replicates?: number;
  seed?: number;
  /** Coverage, 0.95 by default. */
  level?: number;
}

/** Rows grouped by patient (CSR): rows of patient p are rows[offsets[p] .. offsets[p + 1]). */
export interface PatientRows {
  offsets: Uint32Array;
  rows: Uint32Array;
}

/** Groups row indices by patient id, patients in order of first appearance. */
export function groupRowsByPatient(patients: ArrayLike<string>): PatientRows {
  const ids = new Map<string, number>();
  const patientOf = new Uint32Array(patients.length);
  for (let i = 0; i < patients.length; i++) {
    const key = patients[i]!;
    let p = ids.get(key);
    if (p === undefined) ids.set(key, (p = ids.size));
    patientOf[i] = p;
  }
  const offsets = new Uint32Array(ids.size + 1);
  for (let i = 0; i < patientOf.length; i++) offsets[patientOf[i]! + 1]!++;
  for (let p = 0; p < ids.size; p++) offsets[p + 1]! += offsets[p]!;
  const next = offsets.slice(0, ids.size);
  const rows = new Uint32Array(patients.length);
  for (let i = 0; i < patientOf.length; i++) rows[next[patientOf[i]!]!++] = i;
  return { offsets, rows };
}

/** The patients each replicate draws: as many as there are, with replacement (mulberry32 from the seed). */
export function* bootstrapDraws(patients: number, replicates: number, seed: number): Generator<Uint32Array> {
  const rand = mulberry32(seed);
  for (let b = 0; b < replicates; b++) yield Uint32Array.from({ length: patients }, () => Math.floor(rand() * patients));
}

/** The row indices of each replicate, patient by patient in the order drawn. */
export function* bootstrapReplicates(groups: PatientRows, replicates: number, seed: number): Generator<Uint32Array> {
  const { offsets, rows } = groups;
  for (const drawn of bootstrapDraws(offsets.length - 1, replicates, seed)) {
    const out: number[] = [];
    for (const p of drawn) for (let k = offsets[p]!; k < offsets[p + 1]!; k++) out.push(rows[k]!);
    yield Uint32Array.from(out);
  }
}

/** Quantile with linear interpolation between order statistics (numpy's default, type 7) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function bootstrapIntervals(
  scores: Float64Array,
  labels: Uint8Array,
  patients: ArrayLike<string>,
  options: BootstrapOptions = {},
): Record<BootstrapMetric, Interval> {
  const replicates = options.replicates ?? 200;
  const level = options.level ?? 0.95;
  if (patients.length !== scores.length) {
    throw new InvalidInputError(`bootstrapIntervals: patients has ${patients.length} entries but scores has ${scores.length}`);
  }
  if (!Number.isInteger(replicates) || replicates < 1) throw new InvalidInputError('bootstrapIntervals: replicates must be a positive integer');
  if (!(level > 0 && level < 1)) throw new InvalidInputError('bootstrapIntervals: level must be in (0, 1)');
  const values = Object.fromEntries(BOOTSTRAP_METRICS.map((m) => [m, [] as number[]])) as Record<BootstrapMetric, number[]>;
  checkProbabilities('bootstrapIntervals', scores, labels);
  const weighted = new WeightedScores(scores, labels);
  const weights = new Float64Array(scores.length);
  const { offsets, rows } = groupRowsByPatient(patients);
  for (const drawn of bootstrapDraws(offsets.length - 1, replicates, options.seed ?? 1)) {
    // A replicate is a count of draws per row, what WeightedScores takes.
    weights.fill(0);
    for (let d = 0; d < drawn.length; d++) for (let k = offsets[drawn[d]!]!; k < offsets[drawn[d]! + 1]!; k++) weights[rows[k]!]!++;
    const stats = weighted.metrics(weights);
    for (const m of BOOTSTRAP_METRICS) if (Number.isFinite(stats[m])) values[m].push(stats[m]);
  }
  const alpha = (1 - level) / 2;
  const out = {} as Record<BootstrapMetric, Interval>;
  for (const m of BOOTSTRAP_METRICS) {
    const sorted = Float64Array.from(values[m]).sort();
    out[m] = { lower: quantileSorted(sorted, alpha), upper: quantileSorted(sorted, 1 - alpha), replicates: sorted.length };
  }
  return out;
}
