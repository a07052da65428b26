/**
 * Scoring a batch of stays with one served model version: feature records or raw rows -> the
 * pipeline's input columns -> the stored pipeline's `transform` -> the family's predictor, plus
 * per-feature contributions. The whole batch uses the one `ServedModel` it is given, so a response
 * never mixes versions.
 */
import { transform } from '../activities/features/pipeline.js';
import type { FeatureColumns, FeatureValues } from '../activities/features/pipeline.js';
import type { Contributions } from './contributions.js';
import { type FeatureRecord, recordsToColumns } from './feature-schema.js';
import { badInput, ProblemError } from './problem.js';
import type { RawStay, RawStayFeaturizer } from './raw-stays.js';
import type { ServedModel } from './served-model.js';

export type Instance = { features: FeatureRecord } | { raw: RawStay };

export interface PredictRequest {
  instances: Instance[];
  /** Per-feature contributions in the answer (default true). */
  contributions?: boolean;
}

export interface Prediction {
  probability: number;
  /** probability >= threshold (null when the version has no threshold). */
  flagged: boolean | null;
  contributions: Contributions | null;
}

export interface PredictResponse {
  model: string;
  version: string;
  family: string;
  threshold: number | null;
  predictions: Prediction[];
}

export interface ScoringLimits {
  maxBatch: number;
  /** The server's body limit (for its error message). */
  maxBodyBytes: number;
}

/** The input columns of a batch; feature records and raw stays may be mixed. */
export function instanceColumns(served: ServedModel, instances: readonly Instance[], raw: RawStayFeaturizer | null): FeatureColumns {
  const names = served.schema.map((s) => s.name);
  const featureRows: number[] = [];
  const rawRows: number[] = [];
  instances.forEach((inst, i) => {
    const hasFeatures = 'features' in inst;
    const hasRaw = 'raw' in inst;
    if (hasFeatures === hasRaw) throw badInput(`/instances/${i}`, 'invalid-body', 'an instance holds exactly one of "features" and "raw"');
    (hasFeatures ? featureRows : rawRows).push(i);
  });
  if (rawRows.length > 0 && !raw) {
    throw new ProblemError(
      400,
      'raw-rows-disabled',
      'Raw rows disabled',
      'this server has no pseudonym key, so it cannot de-identify raw rows; send feature records',
      '/instances',
      'raw-rows-disabled',
    );
  }
  const fromRecords = recordsToColumns(
    served.schema,
    featureRows.map((i) => (instances[i] as { features: FeatureRecord }).features),
    (k) => `/instances/${featureRows[k]}/features`,
  );
  if (rawRows.length === 0) return fromRecords;
  const fromRaw = raw!.features(
    rawRows.map((i) => (instances[i] as { raw: RawStay }).raw),
    names,
    (k) => `/instances/${rawRows[k]}/raw`,
  );
  if (featureRows.length === 0) return fromRaw;
  // Mixed: put each instance's row back in its place.
  const n = instances.length;
  const merged = new Map<string, FeatureValues>();
  for (const name of names) {
    const a = fromRecords.get(name)!;
    const b = fromRaw.get(name)!;
    if (a instanceof Float64Array) {
      const out = new Float64Array(n);
      featureRows.forEach((row, k) => (out[row] = a[k]!));
      rawRows.forEach((row, k) => (out[row] = (b as Float64Array)[k]!));
      merged.set(name, out);
    } else {
      const out = new Array<string | null>(n).fill(null);
      featureRows.forEach((row, k) => (out[row] = a[k] ?? null));
      rawRows.forEach((row, k) => (out[row] = (b as (string | null)[])[k] ?? null));
      merged.set(name, out);
    }
  }
  return merged;
}

export function predictBatch(served: ServedModel, request: PredictRequest, raw: RawStayFeaturizer | null, limits: ScoringLimits): PredictResponse {
  const n = request.instances.length;
  if (n === 0) throw badInput('/instances', 'missing-field', 'at least one instance is needed');
  if (n > limits.maxBatch) throw badInput('/instances', 'batch-too-large', `at most ${limits.maxBatch} instances a request (this server's limit)`);
  const columns = instanceColumns(served, request.instances, raw);
  const x = transform(
    served.loaded.pipeline,
    columns,
    Uint32Array.from({ length: n }, (_, i) => i),
  );
  const p = served.loaded.predictMatrix(x, n);
  const d = served.loaded.pipeline.width;
  const explain = request.contributions !== false ? served.contributions : null;
  const predictions: Prediction[] = new Array<Prediction>(n);
  for (let i = 0; i < n; i++) {
    predictions[i] = {
      probability: p[i]!,
      flagged: served.threshold === null ? null : p[i]! >= served.threshold,
      contributions: explain ? explain(x.subarray(i * d, (i + 1) * d)) : null,
    };
  }
  return { model: served.name, version: served.version, family: served.metadata.family, threshold: served.threshold, predictions };
}
