/**
 * exploreWorkflow on the real test stack: `carepipe explore` profiles the dataset's latest
 * feature version, and a run with a tiny history limit continues as new between shards and
 * writes the same profile.
 */
import test from 'ava';
import { startIngest } from '../../cli/runs.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { profileKeys } from '../../activities/reports/explore.js';
import type { DatasetProfile } from '../../activities/reports/profile-stats.js';
import { taskQueue } from '../../schemas/names.js';
import { exploreWorkflow, featuresWorkflow } from '../../workflows/index.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { testS3Settings } from '../helpers/services.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const BUCKETS = 4;
const DATASET = 'readmission';
let env: PipelineEnv;
let store: ObjectStore;
let version = '';

test.before(async () => {
  env = await createPipelineEnv('explore');
  store = env.deps.lake(env.lakeUri);
  await writeRawLake(store, { patients: 300, days: 33, seed: 43 });
  await env.startWorkers();
  await (
    await startIngest(env.client, env.config, { actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: BUCKETS }, 'manual', `ingest/explore-${Date.now()}`)
  ).result();
  const features = await env.client.workflow.execute(featuresWorkflow, {
    workflowId: `features/explore-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ actor: TEST_ACTOR, lake: env.lakeUri, dataset: DATASET, bucketCount: BUCKETS }],
  });
  version = features.version;
});

test.after.always(async () => {
  await env?.close();
});

function exploreCli(...flags: string[]) {
  const key = (ring: typeof env.keys.codec) => `${ring.activeId}:${ring.keys.get(ring.activeId)!.toString('base64')}`;
  return runCli(
    ['explore', '--lake', env.lakeUri, '--dataset', DATASET, ...flags],
    cliEnv({
      CAREPIPE_TEMPORAL_ADDRESS: env.config.temporal.address,
      CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
      // versitygw accepts SSE but does not confirm it: the local stack's development exception.
      CAREPIPE_LOCAL_DEVELOPMENT: 'true',
      CAREPIPE_TASK_QUEUE_PREFIX: env.queuePrefix,
      CAREPIPE_CODEC_KEYS: key(env.keys.codec),
      CAREPIPE_CODEC_KEY_ID: env.keys.codec.activeId,
      CAREPIPE_PSEUDONYM_KEYS: key(env.keys.pseudonym),
      CAREPIPE_PSEUDONYM_KEY_ID: env.keys.pseudonym.activeId,
    }),
  );
}

test.serial('carepipe explore profiles the latest feature version and prints where the profile is', async (t) => {
  const r = await exploreCli('--json');
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { version: string; rows: number; profileHtmlUri: string; profileJsonUri: string };
  t.is(out.version, version);
  t.is(out.profileHtmlUri, `${env.lakeUri}/reports/${DATASET}/${version}/profile.html`);
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(lake.featureManifest(DATASET, version)))) as FeatureManifest;
  t.is(out.rows, manifest.labelledRows);
  const profile = JSON.parse(new TextDecoder().decode(await store.get(profileKeys(DATASET, version).json))) as DatasetProfile;
  t.is(profile.positives, manifest.labelledPositives);
  t.true((await store.get(profileKeys(DATASET, version).html)).byteLength > 10_000);
});

test.serial('exploreWorkflow continues as new when its history fills and writes the same profile', async (t) => {
  const before = new TextDecoder().decode(await store.get(profileKeys(DATASET, version).json));
  const partial = profileKeys(DATASET, version).partial(0);
  await store.delete(partial);
  const handle = await env.client.workflow.start(exploreWorkflow, {
    workflowId: `explore/cont-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ actor: TEST_ACTOR, lake: env.lakeUri, dataset: DATASET, version, maxInFlight: 1, historyLimit: 1 }],
  });
  const result = await handle.result();
  t.is(result.version, version);
  t.true(await store.head(partial).then((h) => h !== undefined), 'the deleted partial is written again');
  t.is(new TextDecoder().decode(await store.get(profileKeys(DATASET, version).json)), before);
  const runs = (await handle.describe()).runId !== handle.firstExecutionRunId;
  t.true(runs, 'the workflow continued as new at least once');
});
