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
import type { Forest } from '../train/trees/forest.js';
import { loadTreeModel } from '../train/trees/model.js';
import type { LogRegModel } from '../train/logreg-model.js';
import { readMetadata } from './metadata.js';

/** The family's fitted parameters, for what needs more than probabilities (serving's per-feature contributions). */
export type ModelParameters = { kind: 'logreg'; model: LogRegModel } | { kind: 'trees'; forest: Forest } | { kind: 'mlp' };

export interface LoadedModel {
  version: string;
  family: ModelFamily;
  pipeline: PreprocessingPipeline;
  /** P(readmission) for the given rows of a feature table's columns. */
  score(columns: FeatureColumns, rows: Uint32Array): Float64Array;
  /** P(readmission) for n rows of an already transformed row-major matrix (n x pipeline.width). */
  predictMatrix(x: Float64Array, n: number): Float64Array;
  parameters: ModelParameters;
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
  let parameters: ModelParameters;
  switch (metadata.family) {
    case 'logreg': {
      const m = loadLogReg(modelJson);
      predict = (x, n) => predictProba(m, x, n, d);
      parameters = { kind: 'logreg', model: m };
      break;
    }
    case 'mlp': {
      const m = loadMlp(modelJson);
      predict = (x, n) => predictMlp(m, x, n);
      parameters = { kind: 'mlp' };
      break;
    }
    case 'gbdt':
    case 'rf': {
      const forest = loadTreeModel(modelJson, await file(BLOB_FILE));
      predict = (x, n) => predictForest(forest, x, n, d);
      parameters = { kind: 'trees', forest };
      break;
    }
    default:
      throw new InvalidInputError(`registry: ${model} ${version} has an unknown family`);
  }
  return {
    version,
    family: metadata.family,
    pipeline,
    score: (columns, rows) => predict(transform(pipeline, columns, rows), rows.length),
    predictMatrix: predict,
    parameters,
  };
}
