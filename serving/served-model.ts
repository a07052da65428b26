/**
 * One registered model version loaded for serving: the registry's own loader (preprocessing
 * pipeline and predictor), its metadata, its feature schema, its contributions function, and the
 * decision threshold. The registry records no operating point, so the threshold is the one the
 * version's own held-out evaluation supports best: the score maximising Youden's J (sensitivity +
 * specificity - 1) over its `predictions.parquet`, the stays its metrics were measured on.
 */
import { lake } from '../data-lake/layout.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../activities/io/parquet.js';
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
    threshold: await evaluationThreshold(store, name, version),
    contributions: contributionsFor(loaded.parameters, loaded.pipeline),
  };
}

async function evaluationThreshold(store: ObjectStore, name: string, version: string): Promise<number | null> {
  const key = lake.registryFile(name, version, 'predictions.parquet');
  if (!(await store.head(key))) return null;
  const table = readParquet(await store.get(key), { source: key });
  const score = table.getChild('score');
  const label = table.getChild('label');
  if (!score || !label) return null;
  return youdenThreshold(intOrFloatToFloat64(score, 'score'), intOrFloatToFloat64(label, 'label'));
}

/** The score s maximising TPR - FPR of "flag when score >= s" (ties: the higher s); null without both classes. */
export function youdenThreshold(scores: Float64Array, labels: Float64Array): number | null {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (const y of labels) positives += y === 1 ? 1 : 0;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return null;
  let tp = 0;
  let fp = 0;
  let best = -Infinity;
  let threshold: number | null = null;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp++;
    else fp++;
    // Only between distinct scores is "score >= s" a threshold that flags exactly these rows.
    if (k + 1 < order.length && scores[order[k + 1]!] === scores[i]) continue;
    const j = tp / positives - fp / negatives;
    if (j > best) {
      best = j;
      threshold = scores[i]!;
    }
  }
  return threshold;
}
