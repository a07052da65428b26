/**
 * The tree families through retrainWorkflow on the real test stack: gradient boosting trains in
 * one activity; the random forest as sub-forest activities (`train/rf/<k>`, in parallel on the
 * training queue) whose parts are merged and evaluated by `train/rf`. Both candidates land in the
 * registry with model.json and model.bin.
 */
import test from 'ava';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { readMetadata } from '../../activities/registry/metadata.js';
import { loadTreeModel } from '../../activities/train/trees/model.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import type { RetrainInput, RetrainResult } from '../../schemas/workflows.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';

let env: PipelineEnv;
let first: { workflowId: string; result: RetrainResult };
const MODEL = 'readmission-trees-test';

const input = (): RetrainInput => ({
  lake: env.lakeUri, model: MODEL, dataset: 'readmission', families: ['gbdt', 'rf'], bucketCount: 4, trigger: 'manual', ingest: {},
  codeVersion: 'test', hyperparameters: { gbdt: { maxIter: 40 }, rf: { nEstimators: 30, subForests: 3, minSamplesLeaf: 5 } },
  // A few hundred test stays: the gate's calibration bound is not what this file tests.
  gate: { maxEce: 1 },
});

test.before(async () => {
  env = await createPipelineEnv('train-trees');
  await writeRawLake(env.deps.lake(env.lakeUri), { patients: 1200, days: 31, seed: 5, messiness: 'none' });
  await env.startWorkers();
  const workflowId = `retrain/${MODEL}/${Date.now()}`;
  first = { workflowId, result: await followRetrain(await startRetrain(env.client, env.config, input(), workflowId), () => {}, 200) };
});

test.after.always(async () => {
  await env?.close();
});

test('both tree families become candidates with their model files in the registry', async (t) => {
  const store = env.deps.lake(env.lakeUri);
  t.deepEqual(first.result.candidates.map((c) => c.family).sort(), ['gbdt', 'rf']);
  for (const c of first.result.candidates) {
    t.true(c.metrics.rocAuc > 0.55, `${c.family}: test ROC AUC ${c.metrics.rocAuc}`);
    const json = new TextDecoder().decode(await store.get(lake.registryFile(MODEL, c.version, 'model.json')));
    const forest = loadTreeModel(json, await store.get(`${c.registryPrefix}model.bin`));
    t.is(String(forest.kind), c.family);
    const metadata = await readMetadata(store, MODEL, c.version);
    t.is(metadata!.backend, 'typescript-cpu');
    t.is(metadata!.trainSeconds, c.trainSeconds);
  }
  const rf = first.result.candidates.find((c) => c.family === 'rf')!;
  const metadata = await readMetadata(store, MODEL, rf.version);
  t.is(metadata!.hyperparameters.nEstimators, 30);
  t.is(metadata!.hyperparameters.subForests, 3);
  t.is(metadata!.hyperparameters.minSamplesLeaf, 5);
  // Merged into model.bin, the parts are gone: the version holds the forest once.
  t.truthy(await store.head(`${rf.registryPrefix}model.bin`));
  for (const part of [0, 1, 2]) t.is(await store.head(`${rf.registryPrefix}parts/subforest-${part}.bin`), undefined, `sub-forest ${part}`);
});

test('the forest is trained as one activity per sub-forest and merged by the family activity', async (t) => {
  const history = await env.client.workflow.getHandle(`${first.workflowId}/train`).fetchHistory();
  const scheduled = (history.events ?? []).flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [`${a.activityType?.name ?? ''} ${a.activityId ?? ''}`] : [];
  });
  t.deepEqual(scheduled.filter((s) => s.includes('train/')).sort(), [
    'trainCandidate train/gbdt', 'trainCandidate train/rf', 'trainSubForest train/rf/0', 'trainSubForest train/rf/1', 'trainSubForest train/rf/2',
  ]);
});

test('a sub-forest count out of range fails the run without retries, naming the hyperparameter', async (t) => {
  const bad = { ...input(), families: ['rf' as const], hyperparameters: { rf: { subForests: 0 } } };
  const handle = await startRetrain(env.client, env.config, bad, `retrain/${MODEL}/bad-${Date.now()}`);
  const err = await t.throwsAsync(handle.result(), { instanceOf: WorkflowFailedError });
  const failure = err?.cause?.cause instanceof ApplicationFailure ? err.cause.cause : err?.cause;
  t.true(failure instanceof ApplicationFailure);
  t.regex((failure as ApplicationFailure).message, /rf hyperparameter subForests must be a whole number from 1 to 256/);
});
