/**
 * Long training survives a lost worker: `carepipe worker` is killed (SIGKILL, no goodbye) in the
 * middle of training an MLP; once the heartbeat timeout passes, Temporal retries the activity on a
 * second worker, which resumes from the last epoch checkpoint in the lake instead of starting over.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { readMetadata } from '../../activities/registry/metadata.js';
import type { MlpCheckpoint } from '../../activities/train/mlp.js';
import { tfBackendLabel, tfRuntime } from '../../activities/train/tf-backend.js';
import { parseConfig, parseLakeUri } from '../../core/config.js';
import { dataConverter } from '../../core/codec.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import { cliEnv, startCli } from '../helpers/cli.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { testS3Settings, testTemporalAddress, uniqueBucket } from '../helpers/services.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const codec = testKeyRing('resume-codec');
const pseudonym = testKeyRing('resume-pseudo');
const b64 = (r: typeof codec) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;
const vars = {
  CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
  CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
  // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
  CAREPIPE_LOCAL_DEVELOPMENT: 'true',
  CAREPIPE_LAKE: `s3://${uniqueBucket('train-resume')}`,
  CAREPIPE_TASK_QUEUE_PREFIX: `t-resume-${Date.now().toString(36)}`,
  CAREPIPE_CODEC_KEYS: b64(codec),
  CAREPIPE_PSEUDONYM_KEYS: b64(pseudonym),
  CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS: '2',
};
const config = parseConfig(vars);
const MODEL = 'resume-test';
const EPOCHS = 150;

test('a worker killed mid-training loses no epoch: another worker resumes from the checkpoint and finishes', async (t) => {
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  await writeRawLake(store, { patients: 800, days: 31, seed: 5, messiness: 'none' });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, dataConverter: dataConverter(codec) });
  const first = startCli(['worker'], cliEnv(vars));
  try {
    const handle = await startRetrain(client, config, {
      actor: TEST_ACTOR,
      lake: parseLakeUri(config.lake.uri).uri,
      model: MODEL,
      dataset: 'readmission',
      families: ['mlp'],
      bucketCount: 4,
      trigger: 'manual',
      ingest: {},
      codeVersion: 'test',
      gate: { maxEce: 1 },
      trainingHeartbeatSeconds: 5,
      hyperparameters: { mlp: { epochs: EPOCHS, batchSize: 16, hidden: '16', learningRate: 0.001 } },
    });
    // Wait for a few epochs' checkpoints, then kill the worker without letting it finish anything.
    let checkpoint: MlpCheckpoint | undefined;
    while (!checkpoint || checkpoint.epoch < 3) {
      if (first.child.exitCode !== null) throw new Error(`worker exited early: ${first.output().stderr.slice(-2000)}`);
      await sleep(200);
      for await (const o of store.list(`checkpoints/${MODEL}/`)) checkpoint = JSON.parse(new TextDecoder().decode(await store.get(o.key))) as MlpCheckpoint;
    }
    first.child.kill('SIGKILL');
    await first.exited;
    t.true(checkpoint.epoch < EPOCHS, 'killed mid-training');

    const second = startCli(['worker'], cliEnv(vars));
    try {
      const result = await followRetrain(handle, () => {}, 500);
      const mlp = result.candidates.find((c) => c.family === 'mlp')!;
      const metadata = (await readMetadata(store, MODEL, mlp.version))!;
      const resumedFrom = Number(metadata.hyperparameters.resumedFromEpoch);
      t.true(resumedFrom >= checkpoint.epoch, `resumed from epoch ${resumedFrom}, killed after ${checkpoint.epoch}`);
      t.true(resumedFrom < EPOCHS);
      t.is(metadata.hyperparameters.epochs, EPOCHS);
      // The worker (environment without CAREPIPE_TF_BACKEND: auto) finds what this process finds.
      t.is(metadata.backend, tfBackendLabel((await tfRuntime('auto')).backend));
      t.true(metadata.metrics.rocAuc > 0.55, `test AUC ${metadata.metrics.rocAuc}`);
      const leftovers: string[] = [];
      for await (const o of store.list(`checkpoints/${MODEL}/`)) leftovers.push(o.key);
      t.deepEqual(leftovers, [], 'the checkpoint is removed once the version is complete');
      // The server's history: the training activity ran a second attempt.
      const history = await client.workflow.getHandle(`${handle.workflowId}/train`).fetchHistory();
      const attempts = (history.events ?? [])
        .filter((e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
      t.true(
        attempts.some((a) => a >= 2),
        `attempts seen: ${attempts.join(',')}`,
      );
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
    await connection.close();
    store.close();
  }
});
