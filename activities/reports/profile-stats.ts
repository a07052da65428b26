/**
 * Dataset profile statistics as a map-reduce: `profilePartial` summarises one feature shard,
 * `mergeProfiles` adds partials (associative and commutative, so buckets may be merged in any
 * grouping and order) and `finishProfile` turns the total into what profile.html/profile.json show.
 *
 * Counts, sums and the label association (Pearson over the non-missing rows, from five sums)
 * are exact. Quantiles and histograms come from a bottom-k sample: per feature the k values
 * whose rows' ids hash lowest. The hash depends on the row id only, so the merged sample is the
 * same whichever buckets were merged first, and exact when a feature has at most k values.
 * Partials carry aggregates and sampled numbers, never ids, so they are not PHI.
 */
import type { FeatureColumns } from '../features/pipeline.js';

export const PROFILE_SAMPLE = 4096;
const TOP_CATEGORIES = 12;
const HISTOGRAM_BINS = 20;
export const PROFILE_QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;

export interface NumericPartial {
  kind: 'numeric';
  missing: number;
  /** Over non-missing rows: n, sum x, sum x^2, sum y, sum xy (y the label). */
  n: number;
  sx: number;
  sxx: number;
  sy: number;
  sxy: number;
  min: number | null;
  max: number | null;
  /** [hash, value] pairs, hash ascending, at most PROFILE_SAMPLE. */
  sample: [number, number][];
}

export interface CategoricalPartial {
  kind: 'categorical';
  missing: number;
  /** category -> [rows, positives] */
  counts: Record<string, [number, number]>;
}

export interface ProfilePartial {
  rows: number;
  positives: number;
  features: Record<string, NumericPartial | CategoricalPartial>;
  /** Period (YYYY-MM of discharge) -> [rows, positives]. */
  byPeriod: Record<string, [number, number]>;
}

/** FNV-1a, 32 bits: a stable, well-spread hash of a row id for the bottom-k sample. */
export function rowHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const byHash = (a: [number, number], b: [number, number]): number => a[0] - b[0] || a[1] - b[1];

export function profilePartial(columns: FeatureColumns, labels: Uint8Array, rowIds: readonly string[], periods: readonly (string | null)[]): ProfilePartial {
  const rows = labels.length;
  const hashes = Float64Array.from(rowIds, rowHash);
  let positives = 0;
  const byPeriod: Record<string, [number, number]> = {};
  for (let r = 0; r < rows; r++) {
    positives += labels[r]!;
    const p = periods[r] ?? 'unknown';
    const cell = (byPeriod[p] ??= [0, 0]);
    cell[0]++;
    cell[1] += labels[r]!;
  }
  const features: ProfilePartial['features'] = {};
  for (const [name, values] of columns) {
    if (values instanceof Float64Array) {
      const f: NumericPartial = { kind: 'numeric', missing: 0, n: 0, sx: 0, sxx: 0, sy: 0, sxy: 0, min: null, max: null, sample: [] };
      const sample: [number, number][] = [];
      for (let r = 0; r < rows; r++) {
        const x = values[r]!;
        if (Number.isNaN(x)) {
          f.missing++;
          continue;
        }
        const y = labels[r]!;
        f.n++;
        f.sx += x;
        f.sxx += x * x;
        f.sy += y;
        f.sxy += x * y;
        f.min = f.min === null ? x : Math.min(f.min, x);
        f.max = f.max === null ? x : Math.max(f.max, x);
        sample.push([hashes[r]!, x]);
      }
      f.sample = sample.sort(byHash).slice(0, PROFILE_SAMPLE);
      features[name] = f;
    } else {
      const f: CategoricalPartial = { kind: 'categorical', missing: 0, counts: {} };
      for (let r = 0; r < rows; r++) {
        const v = values[r];
        if (v === null || v === undefined) {
          f.missing++;
          continue;
        }
        const cell = (f.counts[v] ??= [0, 0]);
        cell[0]++;
        cell[1] += labels[r]!;
      }
      features[name] = f;
    }
  }
  return { rows, positives, features, byPeriod };
}

function addCells(into: Record<string, [number, number]>, from: Record<string, [number, number]>): void {
  for (const [k, [a, b]] of Object.entries(from)) {
    const cell = (into[k] ??= [0, 0]);
    cell[0] += a;
    cell[1] += b;
  }
}

/** The partial of the union of the partials' rows. Features missing from a partial had no rows there. */
export function mergeProfiles(partials: readonly ProfilePartial[]): ProfilePartial {
  const out: ProfilePartial = { rows: 0, positives: 0, features: {}, byPeriod: {} };
  for (const p of partials) {
    out.rows += p.rows;
    out.positives += p.positives;
    addCells(out.byPeriod, p.byPeriod);
    for (const [name, f] of Object.entries(p.features)) {
      const o = out.features[name];
      if (!o) {
        out.features[name] = structuredClone(f);
      } else if (o.kind === 'numeric' && f.kind === 'numeric') {
        o.missing += f.missing;
        o.n += f.n;
        o.sx += f.sx;
        o.sxx += f.sxx;
        o.sy += f.sy;
        o.sxy += f.sxy;
        o.min = o.min === null ? f.min : f.min === null ? o.min : Math.min(o.min, f.min);
        o.max = o.max === null ? f.max : f.max === null ? o.max : Math.max(o.max, f.max);
        o.sample = [...o.sample, ...f.sample].sort(byHash).slice(0, PROFILE_SAMPLE);
      } else if (o.kind === 'categorical' && f.kind === 'categorical') {
        o.missing += f.missing;
        addCells(o.counts, f.counts);
      } else {
        throw new Error(`profile: feature ${name} is numeric in one shard and categorical in another`);
      }
    }
  }
  return out;
}

export interface NumericProfile {
  name: string;
  type: 'numeric';
  missingRate: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  quantiles: Record<string, number>;
  histogram: { lower: number; upper: number; count: number }[];
  /** Pearson correlation with the label over the non-missing rows (point-biserial); null when either is constant. */
  labelCorrelation: number | null;
  sampled: boolean;
}

export interface CategoricalProfile {
  name: string;
  type: 'categorical';
  missingRate: number;
  distinct: number;
  top: { category: string; rows: number; labelRate: number }[];
}

export interface DatasetProfile {
  rows: number;
  positives: number;
  labelRate: number;
  features: (NumericProfile | CategoricalProfile)[];
  labelByPeriod: { period: string; rows: number; labelRate: number }[];
}

function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * (sorted[Math.min(sorted.length - 1, lo + 1)]! - sorted[lo]!);
}

function finishNumeric(name: string, f: NumericPartial, rows: number): NumericProfile {
  const values = f.sample.map((s) => s[1]).sort((a, b) => a - b);
  const mean = f.n > 0 ? f.sx / f.n : null;
  const variance = f.n > 1 ? Math.max(0, (f.sxx - (f.sx * f.sx) / f.n) / (f.n - 1)) : null;
  const covXY = f.sxy - (f.sx * f.sy) / f.n;
  const varX = f.sxx - (f.sx * f.sx) / f.n;
  const varY = f.sy - (f.sy * f.sy) / f.n; // y is 0/1, so sum y^2 = sum y
  const labelCorrelation = f.n > 1 && varX > 0 && varY > 0 ? covXY / Math.sqrt(varX * varY) : null;
  const histogram: NumericProfile['histogram'] = [];
  if (values.length > 0 && f.min !== null && f.max !== null) {
    const lo = f.min;
    const width = (f.max - f.min) / HISTOGRAM_BINS || 1;
    const counts = new Float64Array(HISTOGRAM_BINS);
    for (const v of values) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((v - lo) / width))]!++;
    // Scaled from the sample to the feature's non-missing rows.
    const scale = f.n / values.length;
    for (let b = 0; b < HISTOGRAM_BINS; b++) histogram.push({ lower: lo + b * width, upper: lo + (b + 1) * width, count: Math.round(counts[b]! * scale) });
  }
  return {
    name,
    type: 'numeric',
    missingRate: rows > 0 ? f.missing / rows : 0,
    mean,
    std: variance === null ? null : Math.sqrt(variance),
    min: f.min,
    max: f.max,
    quantiles: values.length > 0 ? Object.fromEntries(PROFILE_QUANTILES.map((q) => [`p${Math.round(q * 100)}`, quantile(values, q)])) : {},
    histogram,
    labelCorrelation,
    sampled: values.length < f.n,
  };
}

export function finishProfile(p: ProfilePartial): DatasetProfile {
  const features = Object.entries(p.features)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, f]): NumericProfile | CategoricalProfile => {
      if (f.kind === 'numeric') return finishNumeric(name, f, p.rows);
      const cells = Object.entries(f.counts).sort(([a, x], [b, y]) => y[0] - x[0] || (a < b ? -1 : 1));
      return {
        name,
        type: 'categorical',
        missingRate: p.rows > 0 ? f.missing / p.rows : 0,
        distinct: cells.length,
        top: cells.slice(0, TOP_CATEGORIES).map(([category, [rows, pos]]) => ({ category, rows, labelRate: pos / rows })),
      };
    });
  const labelByPeriod = Object.entries(p.byPeriod)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, [rows, pos]]) => ({ period, rows, labelRate: pos / rows }));
  return { rows: p.rows, positives: p.positives, labelRate: p.rows > 0 ? p.positives / p.rows : 0, features, labelByPeriod };
}
