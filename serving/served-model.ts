/**
 * One registered model version loaded for serving: the registry's own loader (preprocessing
 * pipeline and predictor), its metadata, its feature schema, its contributions function, and the
 * decision threshold: the same one batch scoring flags with (activities/registry/decision-threshold.ts:
 * the metadata's recorded threshold, else the score maximising F1 over the version's held-out
 * `predictions.parquet`), so the API and `carepipe score` flag the same stays.
 */
import { lake } from '../data-lake/layout.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { decisionThreshold, recordedThreshold } from '../activities/registry/decision-threshold.js';
import { type LoadedModel, loadRegisteredModel } from '../activities/registry/load-model.js';
import { type ModelMetadata, readMetadata } from '../activities/registry/metadata.js';
import { type Contributions, contributionsFor } from './contributions.js';
import { type FeatureSpec, featureSchema } from './feature-schema.js';
import { featureNames } from '../activities/features/pipeline.js';

export interface ServedModel {
  name: string;
  version: string;
  metadata: ModelMetadata;
  loaded: LoadedModel;
  schema: FeatureSpec[];
  /** Transformed column names, in order. */
  columns: string[];
  threshold: number | null;
  contributions: ((x: Float64Array) => Contributions) | null;
}

export async function loadServedModel(store: ObjectStore, name: string, version: string): Promise<ServedModel | undefined> {
  const metadata = await readMetadata(store, name, version);
  if (!metadata) return undefined;
  const loaded = await loadRegisteredModel(store, name, version);
  return {
    name,
    version,
    metadata,
    loaded,
    schema: featureSchema(loaded.pipeline),
    columns: featureNames(loaded.pipeline),
    threshold: await servedThreshold(store, metadata),
    contributions: contributionsFor(loaded.parameters, loaded.pipeline),
  };
}

/** Null for a version without held-out predictions (nothing to choose an operating point from). */
async function servedThreshold(store: ObjectStore, metadata: ModelMetadata): Promise<number | null> {
  if (recordedThreshold(metadata) === undefined && !(await store.head(lake.registryFile(metadata.name, metadata.version, 'predictions.parquet')))) return null;
  return (await decisionThreshold(store, metadata)).threshold;
}
