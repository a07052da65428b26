/**
 * The tree families through retrainWorkflow on the real test stack: gradient boosting trains in
 * one activity; the random forest as sub-forest activities (`train/rf/<k>`, in parallel on the
 * training queue) whose parts are merged and evaluated by `train/rf`. Both candidates land in the
 * registry with model.json and model.bin. The preprocessing fit runs as the train run's child
 * workflow, and run again one shard a run (continue-as-new) it fits the same pipeline.
 */
import test from 'ava';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { readMetadata } from '../../activities/registry/metadata.js';
import { loadTreeModel } from '../../activities/train/trees/model.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import { taskQueue } from '../../schemas/names.js';
import { DEFAULT_TEST_FRACTION, type RetrainInput, type RetrainResult } from '../../schemas/workflows.js';
import { fitWorkflow } from '../../workflows/index.js';
import { historyChain, type RunHistory } from '../helpers/history-chain.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

let env: PipelineEnv;
let first: { workflowId: string; result: RetrainResult };
const MODEL = 'readmission-trees-test';
const SHARDS = 4;

const input = (): RetrainInput => ({
  actor: TEST_ACTOR,
  lake: env.lakeUri,
  model: MODEL,
  dataset: 'readmission',
  families: ['gbdt', 'rf'],
  bucketCount: SHARDS,
  trigger: 'manual',
  ingest: {},
  codeVersion: 'test',
  hyperparameters: { gbdt: { maxIter: 40 }, rf: { nEstimators: 30, subForests: 3, minSamplesLeaf: 5 } },
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
    'trainCandidate train/gbdt',
    'trainCandidate train/rf',
    'trainSubForest train/rf/0',
    'trainSubForest train/rf/1',
    'trainSubForest train/rf/2',
  ]);
});

test("the fit runs as the train run's child, and with a small history limit as a chain of short runs that fits the same pipeline", async (t) => {
  const trainId = `${first.workflowId}/train`;
  const fitId = `${trainId}/fit`;
  const scheduled = (events: RunHistory['events'], type: string) =>
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).length;
  const train = (await env.client.workflow.getHandle(trainId).fetchHistory()).events ?? [];
  t.deepEqual(
    train.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []),
    [fitId],
  );
  t.is(scheduled(train, 'fitFeatureShard'), 0, "no shard of the fit in the train run's history");
  const [once] = await historyChain(env.client, fitId);
  t.is(scheduled(once!.events, 'fitFeatureShard'), SHARDS);

  const fitted = await env.client.workflow.getHandle<typeof fitWorkflow>(fitId).result();
  const store = env.deps.lake(env.lakeUri);
  const pipeline = await store.get(fitted.pipelineKey);
  const id = `fit/chain-${Date.now()}`;
  const limit = 35; // room for one shard in flight (EVENTS_PER_ITEM) and the closing events, not two
  const again = await env.client.workflow.execute(fitWorkflow, {
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    workflowId: id,
    args: [
      {
        lake: env.lakeUri,
        dataset: 'readmission',
        featuresVersion: first.result.features.version,
        testFraction: DEFAULT_TEST_FRACTION,
        seed: 1,
        maxInFlight: 1,
        historyLimit: limit,
      },
    ],
  });
  t.deepEqual(again, fitted);
  t.deepEqual(await store.get(fitted.pipelineKey), pipeline);
  const chain = await historyChain(env.client, id);
  t.is(chain.length, SHARDS, 'one shard a run');
  t.deepEqual(
    chain.map((r) => scheduled(r.events, 'fitFeatureShard')),
    chain.map(() => 1),
  );
  t.deepEqual(
    chain.map((r) => scheduled(r.events, 'mergeFeatureFit')),
    [...chain.slice(1).map(() => 0), 1],
    'the last run merges',
  );
  for (const run of chain) t.true(run.events.length <= limit, `${run.events.length} events`);
});

test('a sub-forest count out of range fails the run without retries, naming the hyperparameter', async (t) => {
  const bad = { ...input(), families: ['rf' as const], hyperparameters: { rf: { subForests: 0 } } };
  const handle = await startRetrain(env.client, env.config, bad, `retrain/${MODEL}/bad-${Date.now()}`);
  const err = await t.throwsAsync(handle.result(), { instanceOf: WorkflowFailedError });
  const failure = err?.cause?.cause instanceof ApplicationFailure ? err.cause.cause : err?.cause;
  t.true(failure instanceof ApplicationFailure);
  t.regex((failure as ApplicationFailure).message, /rf hyperparameter subForests must be a whole number from 1 to 256/);
});
