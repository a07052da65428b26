/**
 * The preprocessing pipeline: fitted on training rows only, saved as JSON beside the model, and
 * applied by one pure `transform` in training and in serving. Numeric features: median
 * imputation, a missing indicator where training saw a missing value, standardisation.
 * Categorical features: one-hot over the training vocabulary plus an unknown slot.
 */
import { InvalidInputError } from '../../core/errors.js';

export type FeatureValues = Float64Array | (string | null)[];
export type FeatureColumns = ReadonlyMap<string, FeatureValues>;

export interface NumericStep {
  kind: 'numeric';
  name: string;
  median: number;
  mean: number;
  std: number;
  missingIndicator: boolean;
}

export interface CategoricalStep {
  kind: 'categorical';
  name: string;
  /** Sorted; null values are the category "__missing__". */
  vocabulary: string[];
}

export interface PreprocessingPipeline {
  format: 'carepipe-pipeline-1';
  steps: (NumericStep | CategoricalStep)[];
  width: number;
}

export const MISSING = '__missing__';
export const UNKNOWN = '__unknown__';

function median(sorted: Float64Array): number {
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fitNumeric(name: string, values: Float64Array, rows: Uint32Array): NumericStep {
  const present: number[] = [];
  for (const r of rows) if (!Number.isNaN(values[r]!)) present.push(values[r]!);
  const sorted = Float64Array.from(present).sort();
  const med = median(sorted);
  let sum = 0;
  let sumSq = 0;
  for (const r of rows) {
    const v = Number.isNaN(values[r]!) ? med : values[r]!;
    sum += v;
    sumSq += v * v;
  }
  const n = Math.max(rows.length, 1);
  const mean = sum / n;
  const std = Math.sqrt(Math.max(sumSq / n - mean * mean, 0));
  return { kind: 'numeric', name, median: med, mean, std: std > 1e-12 ? std : 1, missingIndicator: present.length < rows.length };
}

function fitCategorical(name: string, values: (string | null)[], rows: Uint32Array): CategoricalStep {
  const seen = new Set<string>();
  for (const r of rows) seen.add(values[r] ?? MISSING);
  return { kind: 'categorical', name, vocabulary: [...seen].sort() };
}

export function fitPipeline(columns: FeatureColumns, rows: Uint32Array): PreprocessingPipeline {
  const steps = [...columns].map(([name, values]) =>
    values instanceof Float64Array ? fitNumeric(name, values, rows) : fitCategorical(name, values, rows));
  return { format: 'carepipe-pipeline-1', steps, width: featureNames({ format: 'carepipe-pipeline-1', steps, width: 0 }).length };
}

/** Output column names, in order: the feature mapping. */
export function featureNames(p: PreprocessingPipeline): string[] {
  return p.steps.flatMap((s) => (s.kind === 'numeric'
    ? [s.name, ...(s.missingIndicator ? [`${s.name}__missing`] : [])]
    : [...s.vocabulary.map((v) => `${s.name}=${v}`), `${s.name}=${UNKNOWN}`]));
}

/** Row-major matrix (rows.length x width) of the given rows. Pure: same input, same output. */
export function transform(p: PreprocessingPipeline, columns: FeatureColumns, rows: Uint32Array): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n * p.width);
  let offset = 0;
  for (const step of p.steps) {
    const values = columns.get(step.name);
    if (!values) throw new InvalidInputError(`transform: feature column "${step.name}" is missing`);
    if (step.kind === 'numeric') {
      if (!(values instanceof Float64Array)) throw new InvalidInputError(`transform: feature "${step.name}" must be numeric`);
      for (let i = 0; i < n; i++) {
        const v = values[rows[i]!]!;
        const missing = Number.isNaN(v);
        out[i * p.width + offset] = ((missing ? step.median : v) - step.mean) / step.std;
        if (step.missingIndicator) out[i * p.width + offset + 1] = missing ? 1 : 0;
      }
      offset += step.missingIndicator ? 2 : 1;
    } else {
      if (values instanceof Float64Array) throw new InvalidInputError(`transform: feature "${step.name}" must be categorical`);
      const index = new Map(step.vocabulary.map((v, i) => [v, i]));
      const unknown = step.vocabulary.length;
      for (let i = 0; i < n; i++) out[i * p.width + offset + (index.get(values[rows[i]!] ?? MISSING) ?? unknown)] = 1;
      offset += step.vocabulary.length + 1;
    }
  }
  return out;
}
