/**
 * Trains one model family on a feature dataset version, evaluates it on held-out patients, and
 * writes the candidate version to the registry. The metadata file is written last and marks the
 * version complete, so a retried activity finds it and returns the recorded result.
 */
import { auditEvent } from '../audit/events.js';
import { performance } from 'node:perf_hooks';
import { Table } from 'apache-arrow';
import { InvalidInputError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import type { CandidateResult, Hyperparameters, ModelFamily } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, heartbeatWhileRunning, pauseActivity, readJson, sha256Hex, writeJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import type { MlpCheckpoint } from './mlp.js';
import { float64Vector, utf8Vector } from '../io/arrow-columns.js';
import { writeParquet } from '../io/parquet.js';
import { fitPipeline } from '../features/fit-stats.js';
import { featureMapping, type PreprocessingPipeline, transform } from '../features/pipeline.js';
import { readMetadata, writeMetadata, type ModelMetadata } from '../registry/metadata.js';
import { type QualityOutcome, type QualityReport, describeBreach } from '../../schemas/quality.js';
import { evaluatePredictions } from '../evaluate/evaluate.js';
import { loadFeatureSet, splitByPatient } from './feature-set.js';
import { trainFamily } from './families.js';
import type { TrainedModel } from './trained-model.js';
import { type Importance, permutationImportance } from '../evaluate/importance.js';
import { mergeSubForests, type SubForestPart } from './trees/subforest.js';

export interface TrainCandidateInput {
  lake: string;
  model: string;
  dataset: string;
  featuresVersion: string;
  family: ModelFamily;
  version: string;
  hyperparameters: Hyperparameters;
  testFraction: number;
  seed: number;
  codeVersion: string;
  /** A pipeline fitted on this split's training patients (the fit map-reduce); absent: fitted here. */
  pipelineKey?: string;
  /** rf: the sub-forests trained by trainSubForest activities, merged here instead of fitting. */
  subForests?: SubForestPart[];
  dataQuality?: QualityOutcome;
  /** Who started the training (a person, once identities exist); the workflow id when absent. */
  actor?: string;
}

function qualityRecord(q: QualityOutcome): NonNullable<ModelMetadata['dataQuality']> {
  const reports = [q.ingest, q.features].filter((r): r is QualityReport => r !== null);
  return {
    passed: reports.every((r) => r.passed),
    breaches: reports.flatMap((r) => r.breaches.map(describeBreach)),
    ...(q.acceptedBreach ? { acceptedBreach: q.acceptedBreach } : {}),
    baselineVersion: q.features?.baselineVersion ?? null,
  };
}

function resultOf(m: ModelMetadata): CandidateResult {
  return {
    family: m.family,
    version: m.version,
    trainSeconds: m.trainSeconds,
    registryPrefix: lake.registryVersion(m.name, m.version),
    metrics: {
      rocAuc: m.metrics.rocAuc,
      prAuc: m.metrics.prAuc,
      brier: m.metrics.brier,
      ece: m.metrics.ece,
      testRows: m.metrics.testRows,
      testPositives: m.metrics.testPositives,
      trainRows: m.split.trainRows,
    },
  };
}

export async function trainCandidate(deps: ActivityDeps, input: TrainCandidateInput): Promise<CandidateResult> {
  const store = deps.lake(input.lake);
  const done = await readMetadata(store, input.model, input.version);
  if (done) {
    await deleteSubForestParts(store, input); // a retry after the metadata landed finishes the cleanup
    return resultOf(done);
  }

  // Every heartbeat goes through `beat` or `pause`, which keep the latest details for the ticker
  // that covers awaits (loading shards, writing files) where no loop of ours would beat.
  let stage: Progress = { step: 'load' };
  const stopBeating = heartbeatWhileRunning(() => stage);
  const progress = {
    beat: (s: Progress) => {
      stage = s;
      heartbeat(s);
    },
    pause: (s: Progress) => {
      stage = s;
      return pauseActivity(s);
    },
  };
  try {
    return await trainAndRecord(deps, input, store, progress);
  } finally {
    stopBeating();
  }
}

type Progress = Record<string, string | number>;

async function trainAndRecord(
  deps: ActivityDeps,
  input: TrainCandidateInput,
  store: ObjectStore,
  { beat, pause }: { beat: (s: Progress) => void; pause: (s: Progress) => Promise<void> },
): Promise<CandidateResult> {
  beat({ step: 'load' });
  const data = await loadFeatureSet(store, input.dataset, input.featuresVersion);
  // The training read of (de-identified) patient rows is audited once per model version, retries included.
  await auditEvent(store, {
    action: 'data-read',
    purpose: 'training',
    scope: `${input.model}-${input.family}`,
    eventId: `train:${input.model}/${input.version}`,
    ...(input.actor ? { actor: input.actor } : {}),
    details: { model: input.model, version: input.version, dataset: input.dataset, featuresVersion: input.featuresVersion, rows: data.patientKeys.length },
  });
  const split = splitByPatient(data.patientKeys, input.testFraction, input.seed);
  if (split.train.length === 0 || split.test.length === 0) {
    throw new InvalidInputError(`train: ${data.rows} stays give ${split.train.length} training and ${split.test.length} test rows; both must be non-empty`);
  }
  const pipeline = input.pipelineKey
    ? (JSON.parse(new TextDecoder().decode(await store.get(input.pipelineKey))) as PreprocessingPipeline)
    : fitPipeline(data.columns, split.train);
  const xTrain = transform(pipeline, data.columns, split.train);
  const yTrain = Uint8Array.from(split.train, (r) => data.labels[r]!);
  const started = performance.now();
  beat({ step: 'fit' });
  const trained = input.subForests
    ? await mergeSubForests(store, input.subForests, input.hyperparameters)
    : await trainFamily(input.family, xTrain, yTrain, split.train.length, pipeline.width, input.hyperparameters, {
        tfBackend: deps.config.tfBackend,
        loadCheckpoint: () => readJson<MlpCheckpoint>(store, lake.checkpoint(input.model, input.version)),
        saveCheckpoint: (c) => writeJson(store, lake.checkpoint(input.model, input.version), c),
        progress: beat,
        pause,
      });
  const trainSeconds = trained.trainSeconds ?? (performance.now() - started) / 1000;

  beat({ step: 'evaluate' });
  const xTest = transform(pipeline, data.columns, split.test);
  const scores = trained.predict(xTest, split.test.length);
  const labels = Uint8Array.from(split.test, (r) => data.labels[r]!);
  beat({ step: 'importance' });
  const importance = await importanceOf(pipeline, trained, xTest, labels, input.seed, (done, total) => pause({ step: 'importance', feature: done, of: total }));
  beat({ step: 'write' });
  const evaluation = await evaluatePredictions({
    title: `${input.model} ${input.version}`,
    scores,
    labels,
    rows: split.test,
    patients: Array.from(split.test, (r) => data.patientKeys[r] ?? `row-${r}`),
    seed: input.seed,
    columns: data.columns,
    importance,
    facts: [
      { label: 'model', value: input.model },
      { label: 'version', value: input.version },
      { label: 'family', value: input.family },
      { label: 'features', value: `${input.dataset}@${input.featuresVersion}` },
    ],
  });

  const prefix = (file: Parameters<typeof lake.registryFile>[2]) => lake.registryFile(input.model, input.version, file);
  const pipelineJson = JSON.stringify(pipeline, null, 2) + '\n';
  await store.put(prefix('model.json'), trained.serialize(), { contentType: 'application/json' });
  for (const [name, bytes] of Object.entries(trained.files?.() ?? {})) await store.put(lake.registryVersion(input.model, input.version) + name, bytes);
  await store.put(prefix('preprocessing_pipeline.json'), pipelineJson, { contentType: 'application/json' });
  await writeJson(store, prefix('feature_mapping.json'), featureMapping(pipeline));
  await store.put(prefix('report.html'), evaluation.reportHtml, { contentType: 'text/html' });
  await store.put(
    prefix('predictions.parquet'),
    writeParquet(
      new Table({
        encounter_id: utf8Vector(Array.from(split.test, (r) => data.encounterIds[r] ?? null)),
        patient_key: utf8Vector(Array.from(split.test, (r) => data.patientKeys[r] ?? null)),
        score: float64Vector(scores),
        label: float64Vector(Float64Array.from(labels)),
      }),
    ),
  );
  const manifestBytes = await store.get(lake.featureManifest(input.dataset, input.featuresVersion));
  const metadata: ModelMetadata = {
    name: input.model,
    version: input.version,
    family: input.family,
    created: new Date().toISOString(),
    codeVersion: input.codeVersion,
    backend: trained.backend,
    trainingData: {
      dataset: input.dataset,
      version: input.featuresVersion,
      manifestKey: lake.featureManifest(input.dataset, input.featuresVersion),
      manifestSha256: sha256Hex(manifestBytes),
      rows: data.rows,
      positives: data.positives,
    },
    split: { by: 'patient', testFraction: input.testFraction, seed: input.seed, trainRows: split.train.length, testRows: split.test.length },
    pipelineSha256: sha256Hex(pipelineJson),
    hyperparameters: trained.hyperparameters,
    trainSeconds,
    metrics: {
      rocAuc: evaluation.metrics.rocAuc,
      prAuc: evaluation.metrics.averagePrecision,
      brier: evaluation.metrics.brier,
      logLoss: evaluation.metrics.logLoss,
      ece: evaluation.metrics.ece,
      testRows: evaluation.metrics.count,
      testPositives: evaluation.metrics.positives,
    },
    subgroupMetrics: evaluation.subgroups,
    featureImportance: importance,
    ...(input.dataQuality ? { dataQuality: qualityRecord(input.dataQuality) } : {}),
  };
  await writeMetadata(store, metadata);
  await store.delete(lake.checkpoint(input.model, input.version)); // the version is complete: no resume needed
  await deleteSubForestParts(store, input);
  deps.logger.info('candidate trained', { ...activityLogFields(), family: input.family, version: input.version, rocAuc: metadata.metrics.rocAuc });
  return resultOf(metadata);
}

/**
 * A forest's sub-forest parts once the merged model and its metadata are written: the version
 * would otherwise hold the forest twice. Until then they stay, so a retried merge can redo it.
 */
async function deleteSubForestParts(store: ObjectStore, input: TrainCandidateInput): Promise<void> {
  for (const part of input.subForests ?? []) await store.delete(part.key);
}

/** Rows permuted for importance: enough for a stable ranking, bounded so large test sets stay cheap. */
const IMPORTANCE_ROWS = 5_000;

/** Permutation importance per input feature (a feature's one-hot or missing-indicator columns move together). */
function importanceOf(
  pipeline: PreprocessingPipeline,
  trained: TrainedModel,
  xTest: Float64Array,
  labels: Uint8Array,
  seed: number,
  afterGroup: (done: number, total: number) => Promise<void>,
): Promise<Importance[]> {
  const d = pipeline.width;
  const n = Math.min(labels.length, IMPORTANCE_ROWS);
  const columnsOf = new Map<string, number[]>();
  for (const o of featureMapping(pipeline).outputs) columnsOf.set(o.input, [...(columnsOf.get(o.input) ?? []), o.index]);
  const groups = [...columnsOf].map(([feature, columns]) => ({ feature, columns }));
  return permutationImportance((x, rows) => trained.predict(x, rows), xTest.subarray(0, n * d), labels.subarray(0, n), n, d, groups, {
    repeats: 3,
    seed,
    afterGroup,
  });
}
