/**
 * Quantile binning: every feature's values map to at most 255 ordered bins (0..254) and a missing
 * bin (255), so a binned column is a Uint8Array and a histogram has 256 slots per feature.
 *
 * Edges come from a sketch: a feature's distinct values ascending with their counts. With at most
 * 255 distinct values every value gets its own bin (edges at midpoints between neighbours, as in
 * scikit-learn); with more, bins hold about equal counts, a value never straddles two bins, and
 * a value that alone outweighs a bin gets a bin of its own (the target size is recomputed after
 * each edge, as LightGBM does, so heavy ties do not starve the rest of the range).
 *
 * Where the sketch comes from. The fitted preprocessing pipeline (activities/features) keeps
 * only its finalised statistics (median, mean, deviation, vocabulary), not the per-column value
 * histograms it was fitted from, and the trees see its output (standardised values, missing
 * indicators, one-hot columns), not its input. So the sketch is built here from the training
 * matrix itself (exact: the distinct values and their counts, from at most `sampleRows` rows, a
 * seeded sample above that, as scikit-learn does). `edgesFromSketch` takes any (value, count)
 * sketch, so once the pipeline keeps its mergeable value histograms, mapped through its monotone
 * transform, they plug in here unchanged.
 *
 * Categorical features arrive one-hot from the pipeline (two bins each). Native categorical
 * splits (categories ordered by gradient ratio, as LightGBM does) pay off for high-cardinality
 * categories; carepipe's vocabularies are small (sex, race, payer, disposition, diagnosis
 * chapter) and the pipeline already keeps rare categories out, so one-hot keeps one code path and
 * one model format, with every split a threshold.
 *
 * A value v falls in the first bin b with v <= edges[b] (the last bin takes the rest); NaN is
 * missing. A split "bin <= t" is therefore exactly "v <= edges[t]", which is how a saved model
 * compares raw values: binned training and raw prediction agree.
 */
import { InvalidInputError } from '../../../core/errors.js';
import { Rng, deriveSeed } from './rng.js';

/** Bins available to values; the bin after them holds missing values. */
export const MAX_BINS = 255;
export const MISSING_BIN = 255;
/** Histogram slots per feature. */
export const BIN_SLOTS = 256;
/** Rows whose values make the sketch (scikit-learn's default); above it, a seeded sample. */
export const DEFAULT_SAMPLE_ROWS = 200_000;

export interface BinMapper {
  /** Per feature, ascending edges; the feature has edges.length + 1 value bins. */
  edges: Float64Array[];
}

/** Value bins per feature (1 for a constant feature). */
export function valueBins(mapper: BinMapper): Uint16Array {
  return Uint16Array.from(mapper.edges, (e) => e.length + 1);
}

function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  // Between two adjacent doubles the midpoint may round up to b, which would put b in a's bin.
  return m < b ? m : a;
}

/**
 * Edges from a sketch: `values` distinct and ascending, `counts` their (positive) weights.
 * At most maxBins - 1 edges, strictly ascending.
 */
export function edgesFromSketch(values: Float64Array, counts: Float64Array, maxBins = MAX_BINS): Float64Array {
  const m = values.length;
  if (counts.length !== m) throw new InvalidInputError('binning: a sketch needs one count per value');
  if (!(Number.isInteger(maxBins) && maxBins >= 2 && maxBins <= MAX_BINS))
    throw new InvalidInputError(`binning: maxBins must be a whole number from 2 to ${MAX_BINS}, got ${maxBins}`);
  if (m <= 1) return new Float64Array(0);
  if (m <= maxBins) {
    const edges = new Float64Array(m - 1);
    for (let i = 0; i < m - 1; i++) edges[i] = midpoint(values[i]!, values[i + 1]!);
    return edges;
  }
  let total = 0;
  for (let i = 0; i < m; i++) total += counts[i]!;
  // Values that alone fill a bin ("heavy", as LightGBM calls them) get bins of their own; the
  // others share what is left in bins of about equal counts.
  const heavy = total / maxBins;
  let heavyLeft = 0;
  let lightLeft = 0;
  for (let i = 0; i < m; i++) {
    if (counts[i]! >= heavy) heavyLeft++;
    else lightLeft += counts[i]!;
  }
  const edges: number[] = [];
  let inBin = 0;
  const target = () => lightLeft / Math.max(1, maxBins - edges.length - heavyLeft);
  const close = (i: number) => {
    if (i < m - 1 && edges.length < maxBins - 1) edges.push(midpoint(values[i]!, values[i + 1]!));
    lightLeft -= inBin;
    inBin = 0;
  };
  for (let i = 0; i < m; i++) {
    const c = counts[i]!;
    if (c >= heavy) {
      if (inBin > 0) close(i - 1);
      heavyLeft--;
      close(i);
    } else {
      inBin += c;
      if (inBin >= target()) close(i);
    }
  }
  return Float64Array.from(edges);
}

/**
 * The sketch of a column's values (NaN skipped): distinct values ascending and their counts.
 * A column with few distinct values (flags, codes, counts, one-hot columns) is counted in one
 * pass; others are sorted, in place.
 */
export function sketchOf(values: Float64Array, maxDistinct = MAX_BINS): { values: Float64Array; counts: Float64Array } {
  const few = countFew(values, maxDistinct);
  if (few) return few;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === v) values[k++] = v;
  }
  const sorted = values.subarray(0, k).sort();
  let distinct = 0;
  for (let i = 0; i < k; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const out = { values: new Float64Array(distinct), counts: new Float64Array(distinct) };
  for (let i = 0, j = -1; i < k; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) out.values[++j] = sorted[i]!;
    out.counts[j] = out.counts[j]! + 1;
  }
  return out;
}

/** The sketch when the column has at most `limit` distinct values (NaN skipped), else null. */
function countFew(values: Float64Array, limit: number): { values: Float64Array; counts: Float64Array } | null {
  const seen = new Map<number, number>();
  let last = Number.NaN;
  let lastCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) continue;
    // Runs of one value (sorted or constant stretches) skip the map.
    if (v === last) {
      lastCount++;
      continue;
    }
    if (lastCount > 0) seen.set(last, (seen.get(last) ?? 0) + lastCount);
    if (!seen.has(v) && seen.size >= limit) return null;
    last = v;
    lastCount = 1;
  }
  if (lastCount > 0) seen.set(last, (seen.get(last) ?? 0) + lastCount);
  const distinct = Float64Array.from(seen.keys()).sort();
  return { values: distinct, counts: Float64Array.from(distinct, (v) => seen.get(v)!) };
}

export interface BinningOptions {
  maxBins?: number;
  sampleRows?: number;
  seed?: number;
}

/** Fits bin edges for every column of a row-major n x d matrix, from all rows or the listed ones. */
export function fitBinMapper(x: Float64Array, n: number, d: number, options: BinningOptions = {}, from: Uint32Array | null = null): BinMapper {
  if (x.length !== n * d) throw new InvalidInputError(`binning: the matrix has ${x.length} values, expected n * d = ${n * d}`);
  const sampleRows = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  const m = from ? from.length : n;
  let rows = from;
  if (m > sampleRows) {
    const picked = sampleWithoutReplacement(m, sampleRows, new Rng(deriveSeed(options.seed ?? 0, 0xb1)));
    rows = from ? picked.map((i) => from[i]!) : picked;
  }
  const k = rows ? rows.length : n;
  // The columns gathered in one pass over the rows (a row's values are contiguous), then sketched.
  const columns = Array.from({ length: d }, () => new Float64Array(k));
  for (let i = 0; i < k; i++) {
    const base = (rows ? rows[i]! : i) * d;
    for (let j = 0; j < d; j++) columns[j]![i] = x[base + j]!;
  }
  const edges = columns.map((c) => {
    const sketch = sketchOf(c);
    return edgesFromSketch(sketch.values, sketch.counts, options.maxBins ?? MAX_BINS);
  });
  return { edges };
}

/** k of 0..n-1 uniformly without replacement, ascending (selection sampling: one pass). */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): Uint32Array {
  const out = new Uint32Array(Math.min(k, n));
  let need = out.length;
  for (let i = 0, j = 0; i < n && need > 0; i++) {
    if (rng.next() * (n - i) < need) {
      out[j++] = i;
      need--;
    }
  }
  return out;
}

/** The bin of one value: the first b with v <= edges[b], the last value bin above them all, MISSING_BIN for NaN. */
export function binOf(edges: Float64Array, v: number): number {
  if (v !== v) return MISSING_BIN;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Edges padded with +Infinity to 256 entries, for the branch-free search of binPadded. */
function padEdges(edges: Float64Array): Float64Array {
  const padded = new Float64Array(BIN_SLOTS).fill(Infinity);
  padded.set(edges);
  return padded;
}

/**
 * binOf over padded edges without data-dependent branches (8 fixed steps): about twice as fast
 * as the binary search, whose branches a CPU mispredicts half the time.
 */
function binPadded(e: Float64Array, v: number): number {
  let i = +(v > e[127]!) << 7;
  i += +(v > e[i + 63]!) << 6;
  i += +(v > e[i + 31]!) << 5;
  i += +(v > e[i + 15]!) << 4;
  i += +(v > e[i + 7]!) << 3;
  i += +(v > e[i + 3]!) << 2;
  i += +(v > e[i + 1]!) << 1;
  i += +(v > e[i]!);
  return v === v ? i : MISSING_BIN;
}

/**
 * Bins rows of a row-major matrix (all n rows, or the listed ones in that order) into column-major
 * Uint8 columns: column j is `out.subarray(j * m, (j + 1) * m)` for m binned rows. `out` may be
 * a view over a SharedArrayBuffer.
 */
export function binMatrix(mapper: BinMapper, x: Float64Array, n: number, d: number, rows: Uint32Array | null = null, out?: Uint8Array): Uint8Array {
  if (mapper.edges.length !== d) throw new InvalidInputError(`binning: the bins were fitted on ${mapper.edges.length} columns but the matrix has ${d}`);
  if (x.length !== n * d) throw new InvalidInputError(`binning: the matrix has ${x.length} values, expected n * d = ${n * d}`);
  const m = rows ? rows.length : n;
  const binned = out ?? new Uint8Array(m * d);
  const edges = mapper.edges.map(padEdges);
  // Row by row: each row's values are read once, contiguously.
  for (let i = 0; i < m; i++) {
    const base = (rows ? rows[i]! : i) * d;
    for (let j = 0; j < d; j++) binned[j * m + i] = binPadded(edges[j]!, x[base + j]!);
  }
  return binned;
}
