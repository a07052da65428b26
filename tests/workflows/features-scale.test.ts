/**
 * Many small staged fragments on one worker. A year of daily files stages over a thousand
 * fragments a bucket; decoding them in one synchronous run kept the worker's only JavaScript
 * thread from heartbeats and workflow tasks for seconds, and activities missed their heartbeats
 * and were retried. Here two buckets of over 2,000 fragments each are compacted at once (the
 * features workflow compacts before it plans) and built on one worker with a heartbeat timeout of
 * 1 s: every activity must complete on its first attempt, with the features of the same rows
 * ingested as the generator's few large files.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { temporal } from '@temporalio/proto';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import type { FeaturePlan } from '../../activities/features/plan.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet } from '../../activities/io/parquet.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import { featuresWorkflow } from '../../workflows/index.js';
import { writeIngestManifests } from '../../activities/ingest/day-manifests.js';
import { ingestAll, splitCuratedFiles } from '../helpers/features-lake.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const BUCKETS = 2;
let env: PipelineEnv;
let store: ObjectStore;
let whole: FeatureManifest;
let wholeStore: ObjectStore;
let referenceDir = '';

const readJsonKey = async <T>(key: string) => JSON.parse(new TextDecoder().decode(await store.get(key))) as T;

test.before(async () => {
  // The reference lake is a folder under the temporary directory.
  env = await createPipelineEnv('features-scale', [`file://${tmpdir()}`]);
  store = env.deps.lake(env.lakeUri);
  const generator = { patients: 1000, days: 33, seed: 17, messiness: 'none' } as const;
  // The reference: the same rows in the files the generator wrote, in a lake of their own.
  // Under the same keys as the workers' (env.deps), so the pseudonyms, and the shards' bytes, are comparable.
  referenceDir = mkdtempSync(join(tmpdir(), 'carepipe-features-scale-reference-'));
  const referenceUri = `file://${referenceDir}`;
  const referenceStore = env.deps.lake(referenceUri);
  await writeRawLake(referenceStore, generator);
  await ingestAll(env.deps, referenceUri, BUCKETS);
  const built = await buildLakeFeatures(referenceStore, { dataset: 'whole', bucketCount: BUCKETS });
  whole = (await JSON.parse(new TextDecoder().decode(await referenceStore.get(lake.featureManifest('whole', built.version))))) as FeatureManifest;
  wholeStore = referenceStore;

  await writeRawLake(store, generator);
  await ingestAll(env.deps, env.lakeUri, BUCKETS, { compact: false });
  await splitCuratedFiles(store, 14);
  await writeIngestManifests(env.deps, { lake: env.lakeUri });
  await env.startWorkers();
});

test.after.always(async () => {
  await env?.close();
  if (referenceDir) rmSync(referenceDir, { recursive: true, force: true });
});

/** A shard's rows as JSON, by encounter id (the two lakes are separate stores: the values are compared, not the bytes). */
async function shardRows(from: ObjectStore, key: string): Promise<string[]> {
  const table = readParquet(await from.get(key));
  const rows: string[] = [];
  for (let i = 0; i < table.numRows; i++) rows.push(JSON.stringify(table.get(i)!.toJSON(), (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  return rows.sort();
}

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

test('compacting over 2,000 fragments a bucket and building the shards complete on their first attempt under a 1 s heartbeat timeout, with the same features', async (t) => {
  const handle = await env.client.workflow.start(featuresWorkflow, {
    workflowId: `features/scale-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ actor: TEST_ACTOR, lake: env.lakeUri, dataset: 'readmission', bucketCount: BUCKETS, shardHeartbeatSeconds: 1 }],
  });
  const result = await handle.result();
  const plan = await readJsonKey<FeaturePlan>(lake.featurePlan('readmission', result.version));
  t.is(plan.buckets.length, BUCKETS);
  t.true(result.compaction.fragmentsFolded >= 2000 * BUCKETS, `${result.compaction.fragmentsFolded} fragments folded`);
  t.is(result.compaction.generationsWritten, 4 * BUCKETS, 'one generation per table and bucket');

  const ran = activities((await handle.fetchHistory()).events ?? []);
  const shards = ran.filter((a) => a.type === 'buildFeatureShard');
  t.is(shards.length, BUCKETS);
  t.is(ran.filter((a) => a.type === 'compactBucket').length, BUCKETS);
  t.is(ran.filter((a) => a.type === 'planFeatureBuild').length, 1);
  t.deepEqual(
    ran.filter((a) => a.timedOut).map((a) => a.type),
    [],
    'no activity timed out',
  );
  t.deepEqual(
    ran.map((a) => [a.type, a.attempt, a.completed !== undefined]),
    ran.map((a) => [a.type, 1, true]),
    'every activity completed on attempt 1',
  );
  // How long they ran against the 1 s timeout: logged, not asserted (no wall-clock assertions).
  t.log(`shard seconds: ${shards.map((a) => (a.completed! - a.started!).toFixed(1)).join(', ')}`);
  t.log(
    `compaction seconds: ${ran
      .filter((a) => a.type === 'compactBucket')
      .map((a) => (a.completed! - a.started!).toFixed(1))
      .join(', ')}`,
  );

  t.like(result, { shards: BUCKETS, builtShards: BUCKETS, rows: whole.rows, positives: whole.positives, censored: whole.censored });
  const manifest = await readJsonKey<FeatureManifest>(lake.featureManifest('readmission', result.version));
  t.is(manifest.labelledPositives, whole.labelledPositives);
  for (const shard of manifest.shards) {
    const reference = whole.shards.find((s) => s.bucket === shard.bucket)!;
    t.like(shard, { rows: reference.rows, positives: reference.positives, censored: reference.censored, labelledPositives: reference.labelledPositives });
    t.deepEqual(await shardRows(store, shard.key), await shardRows(wholeStore, reference.key), `bucket ${shard.bucket}: the same feature rows`);
  }
});
