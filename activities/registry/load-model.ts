/**
 * A registered model version, loaded to score new rows: its own preprocessing pipeline and its
 * family's predictor. Used to re-score the champion for the gate (and, later, by serving).
 */
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import type { ModelFamily } from '../../schemas/workflows.js';
import type { FeatureColumns, PreprocessingPipeline } from '../features/pipeline.js';
import { transform } from '../features/pipeline.js';
import type { ObjectStore } from '../io/object-store.js';
import { loadLogReg, predictProba } from '../train/logreg.js';
import { loadMlp, predictMlp } from '../train/mlp.js';
import { predictProba as predictForest } from '../train/trees/forest.js';
import { BLOB_FILE } from '../train/trees/format.js';
import { loadTreeModel } from '../train/trees/model.js';
import { readMetadata } from './metadata.js';

export interface LoadedModel {
  version: string;
  family: ModelFamily;
  pipeline: PreprocessingPipeline;
  /** P(readmission) for the given rows of a feature table's columns. */
  score(columns: FeatureColumns, rows: Uint32Array): Float64Array;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

export async function loadRegisteredModel(store: ObjectStore, model: string, version: string): Promise<LoadedModel> {
  const metadata = await readMetadata(store, model, version);
  if (!metadata) throw new NotFoundError(`registry: ${model} has no version ${version}`);
  const file = (name: string) => store.get(lake.registryVersion(model, version) + name);
  const pipeline = JSON.parse(text(await file('preprocessing_pipeline.json'))) as PreprocessingPipeline;
  const modelJson = text(await file('model.json'));
  const d = pipeline.width;
  let predict: (x: Float64Array, n: number) => Float64Array;
  switch (metadata.family) {
    case 'logreg': {
      const m = loadLogReg(modelJson);
      predict = (x, n) => predictProba(m, x, n, d);
      break;
    }
    case 'mlp': {
      const m = loadMlp(modelJson);
      predict = (x, n) => predictMlp(m, x, n);
      break;
    }
    case 'gbdt':
    case 'rf': {
      const forest = loadTreeModel(modelJson, await file(BLOB_FILE));
      predict = (x, n) => predictForest(forest, x, n, d);
      break;
    }
    default:
      throw new InvalidInputError(`registry: ${model} ${version} has an unknown family`);
  }
  return { version, family: metadata.family, pipeline, score: (columns, rows) => predict(transform(pipeline, columns, rows), rows.length) };
}
