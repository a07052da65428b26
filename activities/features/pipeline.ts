/**
 * The preprocessing pipeline: fitted on training rows only (fit-stats.ts), saved as JSON beside
 * the model, and applied by one pure `transform` in training and in serving. Numeric features:
 * median imputation, a missing indicator where training saw a missing value, standardisation by
 * the mean and standard deviation of the values present. Categorical features: one-hot over the
 * training vocabulary (categories seen at least `minCategoryCount` times; null is the category
 * "__missing__") plus an unknown slot for everything else.
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
  /** Observed range on the training rows (for reference; transform does not clip). */
  min: number | null;
  max: number | null;
  missingIndicator: boolean;
}

export interface CategoricalStep {
  kind: 'categorical';
  name: string;
  /** Sorted. */
  vocabulary: string[];
}

export type PipelineStep = NumericStep | CategoricalStep;

export interface PreprocessingPipeline {
  format: 'carepipe-pipeline-2';
  steps: PipelineStep[];
  width: number;
  /** Training rows the statistics came from. */
  fittedRows: number;
  minCategoryCount: number;
}

export const MISSING = '__missing__';
export const UNKNOWN = '__unknown__';

const stepWidth = (s: PipelineStep) => (s.kind === 'numeric' ? (s.missingIndicator ? 2 : 1) : s.vocabulary.length + 1);

export function pipelineWidth(steps: readonly PipelineStep[]): number {
  return steps.reduce((w, s) => w + stepWidth(s), 0);
}

export interface MappedOutput {
  index: number;
  name: string;
  input: string;
  role: 'value' | 'missing' | 'category' | 'unknown';
  category?: string;
}

/** Every output column: its index, name, and the input and role it comes from. */
export function featureMapping(p: PreprocessingPipeline): { inputs: { name: string; kind: PipelineStep['kind'] }[]; outputs: MappedOutput[] } {
  const outputs: MappedOutput[] = [];
  const push = (o: Omit<MappedOutput, 'index'>) => outputs.push({ index: outputs.length, ...o });
  for (const s of p.steps) {
    if (s.kind === 'numeric') {
      push({ name: s.name, input: s.name, role: 'value' });
      if (s.missingIndicator) push({ name: `${s.name}__missing`, input: s.name, role: 'missing' });
    } else {
      for (const v of s.vocabulary) push({ name: `${s.name}=${v}`, input: s.name, role: 'category', category: v });
      push({ name: `${s.name}=${UNKNOWN}`, input: s.name, role: 'unknown' });
    }
  }
  return { inputs: p.steps.map((s) => ({ name: s.name, kind: s.kind })), outputs };
}

/** Output column names, in order. */
export function featureNames(p: PreprocessingPipeline): string[] {
  return featureMapping(p).outputs.map((o) => o.name);
}

/** Row-major matrix (rows.length x width) of the given rows. Pure: same input, same output. */
export function transform(p: PreprocessingPipeline, columns: FeatureColumns, rows: Uint32Array): Float64Array {
  const n = rows.length;
  const w = p.width;
  const out = new Float64Array(n * w);
  let offset = 0;
  for (const step of p.steps) {
    const values = columns.get(step.name);
    if (!values) throw new InvalidInputError(`transform: feature column "${step.name}" is missing`);
    if (step.kind === 'numeric') {
      if (!(values instanceof Float64Array)) throw new InvalidInputError(`transform: feature "${step.name}" must be numeric`);
      for (let i = 0; i < n; i++) {
        const v = values[rows[i]!]!;
        const missing = Number.isNaN(v);
        out[i * w + offset] = ((missing ? step.median : v) - step.mean) / step.std;
        if (step.missingIndicator) out[i * w + offset + 1] = missing ? 1 : 0;
      }
    } else {
      if (values instanceof Float64Array) throw new InvalidInputError(`transform: feature "${step.name}" must be categorical`);
      const index = new Map(step.vocabulary.map((v, i) => [v, i]));
      const unknown = step.vocabulary.length;
      for (let i = 0; i < n; i++) out[i * w + offset + (index.get(values[rows[i]!] ?? MISSING) ?? unknown)] = 1;
    }
    offset += stepWidth(step);
  }
  return out;
}
