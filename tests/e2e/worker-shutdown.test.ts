/**
 * Worker processes as ops run them: `carepipe worker` killed with SIGTERM in the middle of an
 * ingest shuts down cleanly (exit 0), a second worker finishes the run, and nothing is lost or
 * done twice. Then `carepipe retrain --json` reports what scripts rely on.
 */
import test from 'ava';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { parseConfig, parseLakeUri } from '../../core/config.js';
import { dataConverter } from '../../core/codec.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import { type BackgroundCli, cliEnv, runCli, startCli } from '../helpers/cli.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { testS3Settings, testTemporalAddress, uniqueBucket } from '../helpers/services.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const codec = testKeyRing('e2e-codec');
const pseudonym = testKeyRing('e2e-pseudo');
const b64 = (r: typeof codec) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;
const bucket = uniqueBucket('worker-shutdown');
const prefix = `t-shutdown-${Date.now().toString(36)}`;
const vars = {
  CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
  CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
  // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
  CAREPIPE_LOCAL_DEVELOPMENT: 'true',
  CAREPIPE_LAKE: `s3://${bucket}`,
  CAREPIPE_TASK_QUEUE_PREFIX: prefix,
  CAREPIPE_CODEC_KEYS: b64(codec),
  CAREPIPE_PSEUDONYM_KEYS: b64(pseudonym),
  CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS: '3',
  CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: '2',
};
const config = parseConfig(vars);
let generation: GenerationSummary;
let client: Client;

test.before(async () => {
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  generation = await writeRawLake(store, { patients: 2500, days: 6, seed: 21, filesPerDay: 3, messiness: 'none' });
  store.close();
  client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), dataConverter: dataConverter(codec) });
});

test.after.always(async () => {
  await client?.connection.close();
});

async function waitForLog(worker: BackgroundCli, pattern: RegExp): Promise<void> {
  while (!pattern.test(worker.output().stderr)) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early: ${worker.output().stderr}`);
    await sleep(100);
  }
}

test.serial('a worker stopped by SIGTERM mid-ingest exits 0, and a second worker finishes the run with every row counted once', async (t) => {
  const first = startCli(['worker'], cliEnv(vars));
  await waitForLog(first, /"msg":"worker started"/);
  // At start the worker says what it computes with (workers/cores.ts).
  const cores = JSON.parse(
    first
      .output()
      .stderr.split('\n')
      .find((l) => l.includes('"msg":"worker cores"'))!,
  ) as Record<string, unknown>;
  t.is(cores.availableParallelism, availableParallelism());
  t.is(cores.curatorThreads, availableParallelism());
  t.is(cores.queues, ['orchestration', 'data', 'features', 'train-cpu', 'train-gpu'].map((q) => `${prefix}-${q}`).join(','));
  const handle = await startRetrain(client, config, {
    actor: TEST_ACTOR,
    lake: parseLakeUri(config.lake.uri).uri,
    model: 'shutdown-test',
    dataset: 'readmission',
    families: ['logreg'],
    bucketCount: 8,
    trigger: 'manual',
    ingest: {},
    codeVersion: 'test',
    gate: { maxEce: 0.2 },
  });
  await waitForLog(first, /"msg":"file ingested"/); // the fan-out is under way
  first.child.kill('SIGTERM');
  t.is(await first.exited, 0, first.output().stderr.slice(-2000));
  t.regex(first.output().stderr, /"msg":"worker stopped"/);

  const second = startCli(['worker', '--queues', 'orchestration,data,features,train-cpu'], cliEnv(vars));
  const result = await followRetrain(handle, () => {}, 250);
  const rawRows = Object.values(generation.rows).reduce((a, b) => a + b, 0);
  t.is(
    result.ingest!.files,
    Object.values(generation.filesByTable).reduce((a, b) => a + b, 0),
  );
  t.is(result.ingest!.rowsIn, rawRows);
  t.is(result.ingest!.accepted, rawRows);
  t.is(result.features.rows, generation.indexStays, 'no stay lost or counted twice');
  t.is(result.features.positives, generation.readmissions);
  t.true(result.promotion.promoted, result.promotion.reason);

  const json = await runCli(['retrain', '--model', 'shutdown-test', '--buckets', '8', '--json'], cliEnv(vars));
  t.is(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { workflowId: string; promoted: string | null; families: Record<string, { roc_auc: number; train_seconds: number }> };
  t.regex(out.workflowId, /^retrain\/shutdown-test\/\d{8}T\d{6}Z$/);
  t.is(typeof out.families.logreg?.roc_auc, 'number');
  t.true(out.families.logreg!.roc_auc > 0.6);
  t.true(out.families.logreg!.train_seconds >= 0);
  t.is(out.families.logreg!.roc_auc, result.best.metrics.rocAuc, 'same features, same split: same model');

  second.child.kill('SIGINT');
  t.is(await second.exited, 0, second.output().stderr.slice(-2000));
});
