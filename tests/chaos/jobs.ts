/**
 * What the chaos and load suites run on their own stack: a client and a `carepipe worker` pool
 * with the suite's keys and queues, fresh lakes (a bucket each, the generator's raw bytes), and
 * runs whose results are awaited through server restarts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { startRetrain } from '../../cli/runs.js';
import { dataConverter } from '../../core/codec.js';
import { type Config, parseConfig, parseLakeUri } from '../../core/config.js';
import { type GenerationSummary, type GeneratorInput, writeRawLake } from '../../data-lake/generator/index.js';
import type { Workflow } from '@temporalio/common';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { type ChaosStack, WorkerPool } from './chaos-stack.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const b64 = (r: ReturnType<typeof testKeyRing>) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;

export interface ChaosEnv {
  config: Config;
  client: Client;
  pool: WorkerPool;
  close(): Promise<void>;
}

export async function openChaosEnv(stack: ChaosStack, extraVars: Record<string, string> = {}): Promise<ChaosEnv> {
  const codec = testKeyRing('chaos-codec');
  const vars = {
    CAREPIPE_TEMPORAL_ADDRESS: stack.addresses.temporalAddress,
    CAREPIPE_S3_ENDPOINT: stack.addresses.s3Endpoint,
    // versitygw accepts SSE but does not confirm it: the local stack's development exception.
    CAREPIPE_LOCAL_DEVELOPMENT: 'true',
    CAREPIPE_LAKE: 's3://chaos-default',
    // Every lake of the suite is a prefix of one bucket: the workers' allow-list admits it alone.
    CAREPIPE_LAKE_ALLOW: `s3://${CHAOS_BUCKET}`,
    CAREPIPE_TASK_QUEUE_PREFIX: 'chaos',
    CAREPIPE_CODEC_KEYS: b64(codec),
    CAREPIPE_PSEUDONYM_KEYS: b64(testKeyRing('chaos-pseudo')),
    CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS: '3',
    CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: '2',
    ...extraVars,
  };
  const config = parseConfig(vars);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, dataConverter: dataConverter(codec) });
  const pool = new WorkerPool(vars);
  pool.start();
  await pool.ready();
  return {
    config,
    client,
    pool,
    async close() {
      await pool.stop();
      await connection.close();
    },
  };
}

/** The bucket holding every lake of the suite, each under its own prefix. */
export const CHAOS_BUCKET = 'chaos-lakes';

export interface ChaosLake {
  uri: string;
  bucket: string;
  /** The lake's prefix in the bucket (its keys in the S3 access log start with it and a slash). */
  prefix: string;
  store: ObjectStore;
  generation: GenerationSummary;
}

/** A new lake (a fresh prefix of the suite's bucket) holding the generator's raw zone for `input` (the same bytes for the same input). */
export async function newLake(env: ChaosEnv, name: string, input: GeneratorInput): Promise<ChaosLake> {
  const bucket = CHAOS_BUCKET;
  const prefix = `${name}-${Date.now().toString(36)}`;
  const lake = parseLakeUri(`s3://${bucket}/${prefix}`, 'lake');
  await ensureBucket(lake, env.config.s3);
  const store = openStore(lake, env.config.s3);
  return { uri: lake.uri, bucket, prefix, store, generation: await writeRawLake(store, input) };
}

export function startChaosRetrain(env: ChaosEnv, lakeUri: string, model: string, buckets: number) {
  return startRetrain(env.client, env.config, {
    actor: TEST_ACTOR,
    lake: lakeUri,
    model,
    dataset: 'readmission',
    families: ['logreg'],
    bucketCount: buckets,
    trigger: 'manual',
    ingest: {},
    codeVersion: 'chaos',
    // A small lake's calibration error is noisy; the suites test recovery, not the gate's bound.
    gate: { maxEce: 0.5 },
  });
}

/**
 * The run's result, asked again while the Temporal server is away (a restart fault): only the
 * run's own failure ends the wait, never a lost connection.
 */
export async function resultThroughOutages<W extends Workflow>(handle: WorkflowHandle<W>): Promise<Awaited<ReturnType<W>>> {
  for (;;) {
    try {
      return (await handle.result()) as Awaited<ReturnType<W>>;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw err;
      await sleep(1000);
    }
  }
}

/** Raw rows the generator wrote. */
export const rawRows = (g: GenerationSummary) => Object.values(g.rows).reduce((a, b) => a + b, 0);
