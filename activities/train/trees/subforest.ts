/**
 * A random forest trained as K sub-forests, each in its own activity (on whichever worker
 * processes or machines serve the training queue), then merged. Sub-forest k grows trees
 * [floor(kT/K), floor((k+1)T/K)) of the T-tree forest, each from its own seeded stream, on the
 * same training matrix (every part loads the same feature version, split and pipeline), so the
 * merged forest is tree for tree the forest one process would grow (tests/unit/trees-forest.test.ts).
 *
 * A part is written packed (format.ts) to registry/<model>/<version>/parts/subforest-<k>.bin;
 * a retried part finds its file and returns without training again. The merge is the family's
 * trainCandidate activity, given the parts: it loads them in order, evaluates and writes the
 * candidate as for any family, then deletes the parts (the version keeps the merged forest only).
 */
import { performance } from 'node:perf_hooks';
import { InvalidInputError } from '../../../core/errors.js';
import { lake } from '../../../data-lake/layout.js';
import type { Hyperparameters } from '../../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, pauseActivity } from '../../context.js';
import type { ObjectStore } from '../../io/object-store.js';
import { fitPipeline } from '../../features/fit-stats.js';
import { type PreprocessingPipeline, transform } from '../../features/pipeline.js';
import type { TrainedModel } from '../trained-model.js';
import { loadFeatureSet, splitByPatient } from '../feature-set.js';
import { type Forest, mergeForests, nodeCount, treeCount } from './forest.js';
import { packForest, unpackForest } from './format.js';
import { treeModel } from './model.js';
import { parseRfParams, recordOf } from './params.js';
import { fitRandomForest, subForestRange } from './rf.js';

export interface TrainSubForestInput {
  lake: string;
  model: string;
  dataset: string;
  featuresVersion: string;
  /** The candidate version the parts belong to. */
  version: string;
  hyperparameters: Hyperparameters;
  testFraction: number;
  seed: number;
  pipelineKey?: string;
  part: number;
  parts: number;
}

export interface SubForestPart {
  key: string;
  part: number;
  parts: number;
  /** Trees [from, to) of the forest. */
  from: number;
  to: number;
  nodes: number;
  trainSeconds: number;
}

export function subForestKey(model: string, version: string, part: number): string {
  return `${lake.registryVersion(model, version)}parts/subforest-${part}.bin`;
}

/** The training rows of a split as the pipeline's matrix: what trainCandidate fits on. */
async function trainingMatrix(store: ObjectStore, input: TrainSubForestInput): Promise<{ x: Float64Array; y: Uint8Array; n: number; d: number }> {
  const data = await loadFeatureSet(store, input.dataset, input.featuresVersion);
  const split = splitByPatient(data.patientKeys, input.testFraction, input.seed);
  if (split.train.length === 0) throw new InvalidInputError(`rf: ${data.rows} stays give no training row`);
  const pipeline = input.pipelineKey
    ? (JSON.parse(new TextDecoder().decode(await store.get(input.pipelineKey))) as PreprocessingPipeline)
    : fitPipeline(data.columns, split.train);
  return {
    x: transform(pipeline, data.columns, split.train),
    y: Uint8Array.from(split.train, (r) => data.labels[r]!),
    n: split.train.length,
    d: pipeline.width,
  };
}

export async function trainSubForest(deps: ActivityDeps, input: TrainSubForestInput): Promise<SubForestPart> {
  const { part, parts } = input;
  if (!(Number.isInteger(parts) && parts >= 1 && Number.isInteger(part) && part >= 0 && part < parts)) {
    throw new InvalidInputError(`rf: sub-forest ${part} of ${parts} does not exist`);
  }
  const params = parseRfParams(input.hyperparameters);
  const { from, to } = subForestRange(params.nEstimators, part, parts);
  const store = deps.lake(input.lake);
  const key = subForestKey(input.model, input.version, part);
  if (await store.head(key)) {
    const { forest, header } = unpackForest(await store.get(key), key);
    const t = header.training ?? {};
    if (t.from === from && t.to === to && treeCount(forest) === to - from) {
      return { key, part, parts, from, to, nodes: nodeCount(forest), trainSeconds: typeof t.trainSeconds === 'number' ? t.trainSeconds : 0 };
    }
  }
  heartbeat({ step: 'load', part });
  const { x, y, n, d } = await trainingMatrix(store, input);
  const started = performance.now();
  const forest = await fitRandomForest(
    x,
    y,
    n,
    d,
    params,
    { from, to },
    {
      threads: 1,
      onTree: (done, total) => pauseActivity({ step: 'fit', part, tree: done, of: total }),
    },
  );
  const trainSeconds = (performance.now() - started) / 1000;
  await store.put(key, packForest(forest, { hyperparameters: recordOf(params), part, parts, from, to, trainRows: n, trainSeconds }));
  deps.logger.info('sub-forest trained', { ...activityLogFields(), part, parts, trees: to - from, nodes: nodeCount(forest) });
  return { key, part, parts, from, to, nodes: nodeCount(forest), trainSeconds };
}

/**
 * The forest of the sub-forests, in part order; they must cover trees 0..T of one forest without
 * a gap. Its train seconds are the parts' summed (the compute spent, wherever it ran).
 */
export async function mergeSubForests(store: ObjectStore, parts: readonly SubForestPart[], h: Hyperparameters): Promise<TrainedModel> {
  const params = parseRfParams(h);
  const ordered = [...parts].sort((a, b) => a.part - b.part);
  const forests: Forest[] = [];
  let next = 0;
  for (const p of ordered) {
    if (p.from !== next) throw new InvalidInputError(`rf: sub-forest ${p.part} starts at tree ${p.from}, expected ${next}`);
    const { forest } = unpackForest(await store.get(p.key), p.key);
    if (treeCount(forest) !== p.to - p.from) throw new InvalidInputError(`rf: ${p.key} holds ${treeCount(forest)} trees, expected ${p.to - p.from}`);
    forests.push(forest);
    next = p.to;
  }
  if (next !== params.nEstimators) throw new InvalidInputError(`rf: the sub-forests hold ${next} trees of ${params.nEstimators}`);
  const trainSeconds = ordered.reduce((s, p) => s + p.trainSeconds, 0);
  return treeModel(mergeForests(forests), recordOf(params), { subForests: ordered.length }, trainSeconds);
}
