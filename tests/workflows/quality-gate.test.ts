/**
 * The data-quality gate in retrainWorkflow on the real test stack: a lake with a tenth of its rows
 * impossible stops after ingest, before anything trains, with a failure naming the tables, the
 * reason codes with their counts and the limits; a person can accept the breach on purpose (the
 * reason lands in the run and the model metadata); and a feature version is judged against the
 * version before it.
 */
import test from 'ava';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import type { ModelMetadata } from '../../activities/registry/metadata.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import type { FeatureQualityReport, IngestQualityReport } from '../../schemas/quality.js';
import type { RetrainInput } from '../../schemas/workflows.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

let env: PipelineEnv;
const MODEL = 'readmission-quality-test';
const FIRST_DAYS = { from: '2025-01-01', to: '2025-01-20' };
const input = (over: Partial<RetrainInput> = {}): RetrainInput => ({
  actor: TEST_ACTOR,
  lake: env.lakeUri,
  model: MODEL,
  dataset: 'readmission',
  families: ['logreg'],
  bucketCount: 4,
  trigger: 'manual',
  ingest: FIRST_DAYS,
  codeVersion: 'test',
  gate: { maxEce: 1, aucMargin: 1 },
  ...over,
});
const runId = (name: string) => `retrain/${MODEL}/${name}-${Date.now()}`;

async function failure(workflowId: string): Promise<ApplicationFailure> {
  const err: unknown = await env.client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) throw new Error(`expected a failed run, got ${String(err)}`);
  return err.cause;
}

/** Did the run get as far as starting its train child? */
async function trainStarted(workflowId: string): Promise<boolean> {
  return env.client.workflow
    .getHandle(`${workflowId}/train`)
    .describe()
    .then(
      () => true,
      () => false,
    );
}

test.before(async () => {
  env = await createPipelineEnv('quality-gate');
  // About a tenth of every table's rows are impossible (patients aged 140, discharges before
  // admission, negative glucose): far past the default 5% reject limit.
  await writeRawLake(env.deps.lake(env.lakeUri), {
    patients: 600,
    days: 31,
    seed: 5,
    messiness: { impossibleRate: 0.12, correctionRate: 0, duplicateRate: 0 },
  });
  await env.startWorkers();
});

test.after.always(async () => {
  await env?.close();
});

test.serial('a breach after ingest stops the run before anything trains, naming tables, reason codes with counts and limits', async (t) => {
  const handle = await startRetrain(env.client, env.config, input(), runId('breach'));
  const f = await failure(handle.workflowId);
  t.is(f.type, 'DataQualityError');
  t.true(f.nonRetryable);
  t.regex(f.message, /^data-quality gate: ingest reject rate of encounters is \d+\.\d\d%, limit maxRejectRate = 5\.00% \(discharge_before_admission: \d+/);
  t.regex(f.message, /--accept-quality-breach/);
  const report = f.details?.[0] as IngestQualityReport;
  t.is(report.stage, 'ingest');
  const encounters = report.tables.find((x) => x.table === 'encounters')!;
  t.is(encounters.reasons[0]![0], 'discharge_before_admission');
  t.true(encounters.rejected / encounters.rowsIn > 0.05);
  t.false(await trainStarted(handle.workflowId), 'no train child was started');
  t.false(
    await env.client.workflow
      .getHandle(`${handle.workflowId}/features`)
      .describe()
      .then(
        () => true,
        () => false,
      ),
    'nor features',
  );
  const description = await handle.describe();
  t.is(description.searchAttributes.CarepipeStage?.[0], 'quality', 'the Web UI shows where it stopped');
  t.regex(String(description.memo?.summary), /^stopped at the data-quality gate after ingest: ingest reject rate of/);
});

test.serial('a breach accepted on purpose trains, and the reason is recorded in the run and in the model metadata', async (t) => {
  const handle = await startRetrain(
    env.client,
    env.config,
    input({ acceptQualityBreach: 'test lake: impossible rows injected on purpose' }),
    runId('accepted'),
  );
  const result = await followRetrain(handle, () => {}, 200);
  t.false(result.quality.ingest!.passed);
  t.is(result.quality.acceptedBreach, 'test lake: impossible rows injected on purpose');
  t.is(result.quality.features!.baselineVersion, null, 'the first version of the dataset has no baseline');
  const store = env.deps.lake(env.lakeUri);
  const metadata = parse(new TextDecoder().decode(await store.get(lake.registryFile(MODEL, result.best.version, 'model_metadata.yaml')))) as ModelMetadata;
  t.is(metadata.dataQuality?.acceptedBreach, 'test lake: impossible rows injected on purpose');
  t.false(metadata.dataQuality!.passed);
  t.true(metadata.dataQuality!.breaches.some((b) => b.startsWith('ingest reject rate of encounters')));
  const description = await handle.describe();
  t.regex(String(description.memo?.summary), /data-quality breach accepted \("test lake: impossible rows injected on purpose"\): ingest reject rate/);
});

test.serial('the next feature version is judged against the previous one, and a features breach stops the run before training', async (t) => {
  // Ingest the remaining days (limits loosened for ingest), and ask for more labelled stays than exist.
  const handle = await startRetrain(
    env.client,
    env.config,
    input({
      ingest: {},
      quality: { maxRejectRate: 1, minLabelledStays: 1_000_000 },
    }),
    runId('features-breach'),
  );
  const f = await failure(handle.workflowId);
  t.is(f.type, 'DataQualityError');
  const report = f.details?.[0] as FeatureQualityReport;
  t.is(report.stage, 'features');
  t.deepEqual(
    report.breaches.map((b) => b.check),
    ['labelled_stays'],
  );
  t.regex(f.message, /features labelled stays is \d+, limit minLabelledStays = 1000000/);
  t.truthy(report.baselineVersion, 'compared against the version the accepted run trained on');
  t.not(report.baselineVersion, report.version);
  t.true(report.indexStays > report.baseline!.indexStays, 'eleven more days of data');
  t.false(await trainStarted(handle.workflowId));
});
