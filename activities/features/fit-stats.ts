/**
 * Fitting the preprocessing pipeline as a map-reduce: each shard's training rows give a partial
 * (per numeric column: rows, values present, sum, sum of squares, min, max and a value histogram;
 * per categorical column: category counts), partials merge by addition, and the merged partial is
 * finalised into the pipeline. Fitting all rows at once is the same code on one partial, so the
 * two agree: exactly for counts, extremes, medians and vocabularies, to float rounding for means
 * and deviations (sums added in another order).
 *
 * The median comes from an exact histogram of values rounded to 4 significant digits (integers
 * below 10,000 are kept as they are: ages, counts, most lab results as reported). The median
 * only fills missing values, so an error of at most half a unit in the 4th digit (a relative
 * 5e-4) is immaterial; in exchange the
 * histogram merges exactly and in any order, which a t-digest or KLL sketch does not (their
 * result depends on how the data was split), and it stays small: at most 9,000 bins per decade of
 * a feature's range, a few hundred in practice (lab results are reported to 0-3 decimals).
 */
import { InvalidInputError } from '../../core/errors.js';
import { type FeatureColumns, MISSING, type PipelineStep, type PreprocessingPipeline, pipelineWidth } from './pipeline.js';

export interface NumericPartial {
  kind: 'numeric';
  name: string;
  rows: number;
  present: number;
  sum: number;
  sumSq: number;
  min: number | null;
  max: number | null;
  /** Histogram: bin values ascending, and their counts. */
  bins: number[];
  counts: number[];
}

export interface CategoricalPartial {
  kind: 'categorical';
  name: string;
  rows: number;
  /** [category, count], categories ascending. */
  counts: [string, number][];
}

export type ColumnPartial = NumericPartial | CategoricalPartial;

export interface FitPartial {
  format: 'carepipe-fit-partial-1';
  rows: number;
  columns: ColumnPartial[];
}

export const MEDIAN_DIGITS = 4;
export const DEFAULT_MIN_CATEGORY_COUNT = 5;

/** The histogram bin of a value: itself for integers below 10,000, else 4 significant digits. */
export function binValue(v: number): number {
  return Number.isInteger(v) && Math.abs(v) < 10_000 ? v : Number(v.toPrecision(MEDIAN_DIGITS));
}

function numericPartial(name: string, values: Float64Array, rows: Uint32Array): NumericPartial {
  let present = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  const hist = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!]!;
    if (Number.isNaN(v)) continue;
    present++;
    sum += v;
    sumSq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    const b = binValue(v);
    hist.set(b, (hist.get(b) ?? 0) + 1);
  }
  const bins = [...hist.keys()].sort((a, b) => a - b);
  return {
    kind: 'numeric',
    name,
    rows: rows.length,
    present,
    sum,
    sumSq,
    min: present ? min : null,
    max: present ? max : null,
    bins,
    counts: bins.map((b) => hist.get(b)!),
  };
}

function categoricalPartial(name: string, values: (string | null)[], rows: Uint32Array): CategoricalPartial {
  const counts = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]!] ?? MISSING;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return { kind: 'categorical', name, rows: rows.length, counts: [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** The partial statistics of `rows` of every column, in the columns' order. */
export function partialOf(columns: FeatureColumns, rows: Uint32Array): FitPartial {
  return {
    format: 'carepipe-fit-partial-1',
    rows: rows.length,
    columns: [...columns].map(([name, values]) =>
      values instanceof Float64Array ? numericPartial(name, values, rows) : categoricalPartial(name, values, rows),
    ),
  };
}

function mergeSorted<K extends number | string>(a: [K, number][], b: [K, number][]): [K, number][] {
  const out: [K, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      out.push([x![0], x![1]]);
      i++;
    } else if (x === undefined || y[0] < x[0]) {
      out.push([y[0], y[1]]);
      j++;
    } else {
      out.push([x[0], x[1] + y[1]]);
      i++;
      j++;
    }
  }
  return out;
}

const pairs = (p: NumericPartial): [number, number][] => p.bins.map((b, i) => [b, p.counts[i]!]);
const opt = (f: (a: number, b: number) => number, a: number | null, b: number | null) => (a === null ? b : b === null ? a : f(a, b));

function mergeColumn(a: ColumnPartial, b: ColumnPartial): ColumnPartial {
  if (a.name !== b.name || a.kind !== b.kind) throw new InvalidInputError(`fit: partials disagree on column ${a.name} (${a.kind}) vs ${b.name} (${b.kind})`);
  if (a.kind === 'categorical' && b.kind === 'categorical') return { ...a, rows: a.rows + b.rows, counts: mergeSorted(a.counts, b.counts) };
  const x = a as NumericPartial;
  const y = b as NumericPartial;
  const hist = mergeSorted(pairs(x), pairs(y));
  return {
    kind: 'numeric',
    name: x.name,
    rows: x.rows + y.rows,
    present: x.present + y.present,
    sum: x.sum + y.sum,
    sumSq: x.sumSq + y.sumSq,
    min: opt(Math.min, x.min, y.min),
    max: opt(Math.max, x.max, y.max),
    bins: hist.map(([v]) => v),
    counts: hist.map(([, c]) => c),
  };
}

/** The sum of partials over the same columns. */
export function mergePartials(partials: readonly FitPartial[]): FitPartial {
  if (partials.length === 0) throw new InvalidInputError('fit: no partial statistics to merge');
  return partials.slice(1).reduce((acc, p) => {
    if (p.columns.length !== acc.columns.length) throw new InvalidInputError(`fit: partials have ${acc.columns.length} and ${p.columns.length} columns`);
    return { format: acc.format, rows: acc.rows + p.rows, columns: acc.columns.map((c, i) => mergeColumn(c, p.columns[i]!)) };
  }, partials[0]!);
}

/** The median of a histogram: the middle value, or the mean of the two middle values. */
export function histogramMedian(bins: readonly number[], counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const at = (k: number) => {
    let seen = 0;
    for (let i = 0; i < bins.length; i++) if ((seen += counts[i]!) > k) return bins[i]!;
    return bins[bins.length - 1]!;
  };
  return (at((total - 1) >> 1) + at(total >> 1)) / 2;
}

function finalizeColumn(c: ColumnPartial, minCategoryCount: number): PipelineStep {
  if (c.kind === 'categorical') {
    return { kind: 'categorical', name: c.name, vocabulary: c.counts.filter(([, n]) => n >= minCategoryCount).map(([v]) => v) };
  }
  const mean = c.present ? c.sum / c.present : 0;
  const std = c.present ? Math.sqrt(Math.max(c.sumSq / c.present - mean * mean, 0)) : 0;
  return {
    kind: 'numeric',
    name: c.name,
    median: histogramMedian(c.bins, c.counts),
    mean,
    std: std > 1e-12 ? std : 1,
    min: c.min,
    max: c.max,
    missingIndicator: c.present < c.rows,
  };
}

export function finalizePipeline(partial: FitPartial, minCategoryCount = DEFAULT_MIN_CATEGORY_COUNT): PreprocessingPipeline {
  const steps = partial.columns.map((c) => finalizeColumn(c, minCategoryCount));
  return { format: 'carepipe-pipeline-2', steps, width: pipelineWidth(steps), fittedRows: partial.rows, minCategoryCount };
}

/** Fits on `rows` at once: the one-partial case of the map-reduce. */
export function fitPipeline(columns: FeatureColumns, rows: Uint32Array, minCategoryCount = DEFAULT_MIN_CATEGORY_COUNT): PreprocessingPipeline {
  return finalizePipeline(partialOf(columns, rows), minCategoryCount);
}
