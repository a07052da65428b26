/**
 * Feature shards of many small fragments on one worker. A year of daily files is over a thousand
 * fragments a bucket; decoding them in one synchronous run kept the worker's only JavaScript thread
 * from heartbeats and workflow tasks for seconds, and shards missed their heartbeats and were
 * retried. Here two buckets of over 2,000 fragments each build at once on one worker with a
 * heartbeat timeout of 1 s, several times shorter than a shard takes: every shard (and the plan)
 * must complete on its first attempt, with the features of the same rows in a few large files.
 */
import test from 'ava';
import type { temporal } from '@temporalio/proto';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import type { FeaturePlan } from '../../activities/features/plan.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import { featuresWorkflow } from '../../workflows/index.js';
import { ingestAll, splitCuratedFiles } from '../helpers/features-lake.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';

const BUCKETS = 2;
let env: PipelineEnv;
let store: ObjectStore;
let whole: FeatureManifest;

const readJsonKey = async <T>(key: string) => JSON.parse(new TextDecoder().decode(await store.get(key))) as T;

test.before(async () => {
  env = await createPipelineEnv('features-scale');
  store = env.deps.lake(env.lakeUri);
  await writeRawLake(store, { patients: 1000, days: 33, seed: 17, messiness: 'none' });
  await ingestAll(env.deps, env.lakeUri, BUCKETS);
  // The reference: the same rows in the files the generator wrote (a few dozen fragments a bucket).
  const reference = await buildLakeFeatures(store, { dataset: 'whole', bucketCount: BUCKETS });
  whole = await readJsonKey<FeatureManifest>(lake.featureManifest('whole', reference.version));
  await splitCuratedFiles(store, 14);
  await env.startWorkers();
});

test.after.always(async () => {
  await env?.close();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const seconds = (e: HistoryEvent) => Number(e.eventTime!.seconds) + (e.eventTime!.nanos ?? 0) / 1e9;

/** Per activity of a run, from the history the server stores: type, attempt started, completed, timed out. */
function activities(events: HistoryEvent[]) {
  const byScheduled = new Map<string, { type: string; attempt?: number; started?: number; completed?: number; timedOut: boolean }>();
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) byScheduled.set(String(e.eventId), { type: s.activityType!.name!, timedOut: false });
    const started = e.activityTaskStartedEventAttributes;
    if (started) Object.assign(byScheduled.get(String(started.scheduledEventId))!, { attempt: started.attempt!, started: seconds(e) });
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) byScheduled.get(String(completed.scheduledEventId))!.completed = seconds(e);
    const timedOut = e.activityTaskTimedOutEventAttributes;
    if (timedOut) byScheduled.get(String(timedOut.scheduledEventId))!.timedOut = true;
  }
  return [...byScheduled.values()];
}

test('shards of over 2,000 fragments each complete on their first attempt under a 1 s heartbeat timeout, with the same features', async (t) => {
  const handle = await env.client.workflow.start(featuresWorkflow, {
    workflowId: `features/scale-${Date.now()}`, taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ lake: env.lakeUri, dataset: 'readmission', bucketCount: BUCKETS, shardHeartbeatSeconds: 1 }],
  });
  const result = await handle.result();
  const plan = await readJsonKey<FeaturePlan>(lake.featurePlan('readmission', result.version));
  t.is(plan.buckets.length, BUCKETS);
  for (const b of plan.buckets) t.true(b.fragments >= 2000, `bucket ${b.bucket}: ${b.fragments} fragments`);

  const ran = activities((await handle.fetchHistory()).events ?? []);
  const shards = ran.filter((a) => a.type === 'buildFeatureShard');
  t.is(shards.length, BUCKETS);
  t.is(ran.filter((a) => a.type === 'planFeatureBuild').length, 1);
  t.deepEqual(ran.filter((a) => a.timedOut).map((a) => a.type), [], 'no activity timed out');
  t.deepEqual(ran.map((a) => [a.type, a.attempt, a.completed !== undefined]), ran.map((a) => [a.type, 1, true]), 'every activity completed on attempt 1');
  // How long the shards ran against the 1 s timeout: logged, not asserted (no wall-clock assertions).
  t.log(`shard seconds: ${shards.map((a) => (a.completed! - a.started!).toFixed(1)).join(', ')}`);

  t.like(result, { shards: BUCKETS, builtShards: BUCKETS, rows: whole.rows, positives: whole.positives, censored: whole.censored });
  const manifest = await readJsonKey<FeatureManifest>(lake.featureManifest('readmission', result.version));
  t.is(manifest.labelledPositives, whole.labelledPositives);
  for (const shard of manifest.shards) {
    const reference = whole.shards.find((s) => s.bucket === shard.bucket)!;
    t.like(shard, { rows: reference.rows, positives: reference.positives, censored: reference.censored, labelledPositives: reference.labelledPositives });
    t.deepEqual(await store.get(shard.key), await store.get(reference.key), `bucket ${shard.bucket}: the same shard, byte for byte`);
  }
});
