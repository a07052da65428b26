/**
 * Percentile bootstrap confidence intervals for the headline metrics, resampling patients (not
 * rows): a patient's stays are correlated, so resampling rows would understate the spread
 * whenever a patient has several test stays. Seeded (mulberry32), so the same predictions give
 * the same intervals. A replicate in which a metric is undefined (one class drawn) is left out of
 * that metric's interval, and the count of replicates kept is reported.
 */
import { InvalidInputError } from '../../core/errors.js';
import { mulberry32 } from '../../core/random.js';
import { calibrationFit } from './metrics-clinical.js';
import { calibration, calibrationErrorOfBins } from './metrics-calibration.js';
import { brierScore, logLoss } from './metrics-probability.js';
import { averagePrecision, rocAuc } from './metrics-ranking.js';

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

/** The row indices of each replicate: as many patients as there are, drawn with replacement. */
export function* bootstrapReplicates(groups: PatientRows, replicates: number, seed: number): Generator<Uint32Array> {
  const rand = mulberry32(seed);
  const patients = groups.offsets.length - 1;
  for (let b = 0; b < replicates; b++) {
    const drawn = new Uint32Array(patients);
    let size = 0;
    for (let k = 0; k < patients; k++) {
      const p = Math.floor(rand() * patients);
      drawn[k] = p;
      size += groups.offsets[p + 1]! - groups.offsets[p]!;
    }
    const rows = new Uint32Array(size);
    let at = 0;
    for (let k = 0; k < patients; k++) {
      const p = drawn[k]!;
      rows.set(groups.rows.subarray(groups.offsets[p]!, groups.offsets[p + 1]!), at);
      at += groups.offsets[p + 1]! - groups.offsets[p]!;
    }
    yield rows;
  }
}

/** The headline metrics of one sample. */
export function sampleMetrics(scores: Float64Array, labels: Uint8Array): Record<BootstrapMetric, number> {
  const fit = calibrationFit(scores, labels);
  return {
    rocAuc: rocAuc(scores, labels),
    averagePrecision: averagePrecision(scores, labels),
    brier: brierScore(scores, labels),
    logLoss: logLoss(scores, labels),
    ece: calibrationErrorOfBins(calibration(scores, labels)),
    calibrationSlope: fit.slope,
    calibrationIntercept: fit.intercept,
  };
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
  for (const rows of bootstrapReplicates(groupRowsByPatient(patients), replicates, options.seed ?? 1)) {
    const stats = sampleMetrics(
      Float64Array.from(rows, (r) => scores[r]!),
      Uint8Array.from(rows, (r) => labels[r]!),
    );
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
