/**
 * One real pipeline environment per test file: the test stack's Temporal server and versitygw,
 * a fresh bucket, fresh keys, and in-process workers on task queues of the file's own prefix,
 * so concurrent test files never take each other's tasks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/context.js';
import { ensureBucket } from '../../activities/io/open-store.js';
import { type Config, type Keys, type KeyRing, parseConfig, parseLakeUri } from '../../core/config.js';
import { dataConverter } from '../../core/codec.js';
import { createLogger } from '../../core/log.js';
import { createDeps } from '../../cli/deps.js';
import { QUEUE_ROLES } from '../../schemas/names.js';
import { installRuntime } from '../../workers/runtime.js';
import { bundleWorkflows, createWorkers } from '../../workers/workers.js';
import { testS3Settings, testTemporalAddress, uniqueBucket } from './services.js';

/** A key derived from its id: runs are reproducible (pseudonyms, and so the patient split, repeat). */
export function testKeyRing(id = 'test-1'): KeyRing {
  return { activeId: id, keys: new Map([[id, createHash('sha256').update(`carepipe test key ${id}`).digest()]]), source: 'test keys' };
}

export interface PipelineEnv {
  config: Config;
  keys: Keys;
  deps: ActivityDeps;
  lakeUri: string;
  client: Client;
  /** A client without the codec: sees what the Temporal server stores. */
  rawClient: Client;
  queuePrefix: string;
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** `allow`: lakes beside the env's own that its workers and deps may open (CAREPIPE_LAKE_ALLOW). */
export async function createPipelineEnv(name: string, allow: readonly string[] = []): Promise<PipelineEnv> {
  const bucket = uniqueBucket(name);
  const s3 = testS3Settings();
  const queuePrefix = `t-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${randomBytes(3).toString('hex')}`;
  const config = parseConfig({
    CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
    CAREPIPE_S3_ENDPOINT: s3.endpoint!,
    // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
    CAREPIPE_LOCAL_DEVELOPMENT: 'true',
    CAREPIPE_LAKE: `s3://${bucket}`,
    ...(allow.length > 0 ? { CAREPIPE_LAKE_ALLOW: [`s3://${bucket}`, ...allow].join(',') } : {}),
    CAREPIPE_TASK_QUEUE_PREFIX: queuePrefix,
    CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS: '5',
  });
  await ensureBucket(config.lake, config.s3);
  const keys: Keys = { codec: testKeyRing('codec-1'), pseudonym: testKeyRing('pseudo-1') };
  const logger = createLogger('warn', { test: name });
  installRuntime(logger);
  const deps = createDeps(config, keys, logger);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, dataConverter: dataConverter(keys.codec) });
  const rawClient = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const bundle = await bundleWorkflows();
  let workers: Worker[] = [];
  let running: Promise<unknown> = Promise.resolve();
  const stopWorkers = async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
    workers = [];
  };
  return {
    config,
    keys,
    deps,
    lakeUri: parseLakeUri(config.lake.uri).uri,
    client,
    rawClient,
    queuePrefix,
    async startWorkers() {
      workers = await createWorkers({ deps, connection: nativeConnection, queues: QUEUE_ROLES, queuePrefix, workflowBundle: bundle });
      running = Promise.all(workers.map((w) => w.run()));
    },
    stopWorkers,
    async close() {
      await stopWorkers();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
