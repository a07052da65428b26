/**
 * Pipeline benchmarks on the local stack, at two scales, with one worker process and with two:
 * ingest (issue 3: input rows a second, peak memory) and the feature build (issue 4: lab rows a
 * second, peak memory). The reference, measured in the same run on the same files, is pyarrow
 * reading them (1 thread): what a columnar reader alone costs on this machine.
 */
import { Client, Connection } from '@temporalio/client';
import { ensureBucket, openStore } from '../activities/io/open-store.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { LOCAL_S3_CREDENTIALS, type Config, parseConfig } from '../core/config.js';
import { dataConverter } from '../core/codec.js';
import { writeRawLake } from '../data-lake/generator/index.js';
import { follow, ingestProgressQuery, startFeatures, startIngest } from '../cli/runs.js';
import type { stackAddresses } from '../infra/stack.js';
import { featuresProgressQuery } from '../workflows/index.js';
import { printTable, pythonReference, startWorker, type WorkerProcess } from './harness.js';

const CODEC_KEY = Buffer.alloc(32, 3);
const KEYS = {
  CAREPIPE_CODEC_KEYS: `bench:${CODEC_KEY.toString('base64')}`,
  CAREPIPE_PSEUDONYM_KEYS: `bench:${Buffer.alloc(32, 4).toString('base64')}`,
};
const BUCKETS = 32;

async function clearDerived(store: ObjectStore): Promise<void> {
  for (const prefix of ['curated/', 'rejects/', 'manifests/', 'quarantine/', 'features/']) {
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => store.delete(k)));
  }
}

function reference(addresses: ReturnType<typeof stackAddresses>, bucket: string, prefix: string) {
  return pythonReference<{ rows: number; seconds: number }>('pyarrow_read.py', [
    addresses.s3Endpoint, bucket, LOCAL_S3_CREDENTIALS.accessKeyId, LOCAL_S3_CREDENTIALS.secretAccessKey, prefix,
  ]);
}

/** Runs `fn` with `count` worker processes serving the orchestration and data queues; returns their peak RSS. */
async function withWorkers<T>(count: number, env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  const workers: WorkerProcess[] = await Promise.all(Array.from({ length: count }, () => startWorker(env, ['--queues', 'orchestration,data'])));
  try {
    const value = await fn();
    return { value, peakMiB: Math.max(...workers.map((w) => w.peakRssMiB())) };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

export async function benchPipeline(addresses: ReturnType<typeof stackAddresses>, scales: number[]): Promise<void> {
  const ingestRows: (string | number)[][] = [];
  const featureRows: (string | number)[][] = [];
  for (const patients of scales) {
    const bucket = `bench-pipeline-${patients}`;
    const vars = { ...KEYS, CAREPIPE_TEMPORAL_ADDRESS: addresses.temporalAddress, CAREPIPE_S3_ENDPOINT: addresses.s3Endpoint, CAREPIPE_LAKE: `s3://${bucket}` };
    const base = parseConfig(vars);
    await ensureBucket(base.lake, base.s3);
    const store = openStore(base.lake, base.s3);
    process.stderr.write(`[bench] generating ${patients} patients\n`);
    const generation = await writeRawLake(store, { patients, days: 31, seed: 1 });
    const rawRows = Object.values(generation.rows).reduce((a, b) => a + b, 0);
    const rawReference = reference(addresses, bucket, 'raw');
    for (const workerCount of [1, 2]) {
      await clearDerived(store);
      const prefix = `bench-${patients}-${workerCount}`;
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...vars, CAREPIPE_TASK_QUEUE_PREFIX: prefix, CAREPIPE_LOG_LEVEL: 'info' };
      const config: Config = parseConfig({ ...vars, CAREPIPE_TASK_QUEUE_PREFIX: prefix });
      const connection = await Connection.connect({ address: addresses.temporalAddress });
      const client = new Client({ connection, dataConverter: dataConverter({ activeId: 'bench', keys: new Map([['bench', CODEC_KEY]]), source: 'bench' }) });
      try {
        process.stderr.write(`[bench] ingest: ${patients} patients, ${workerCount} worker process(es)\n`);
        const ingest = await withWorkers(workerCount, env, async () => {
          const started = performance.now();
          const handle = await startIngest(client, config, { lake: config.lake.uri, bucketCount: BUCKETS }, 'manual', `bench/ingest/${prefix}/${Date.now()}`);
          return { summary: await follow(handle, ingestProgressQuery, () => {}, 500), seconds: (performance.now() - started) / 1000 };
        });
        const { summary, seconds } = ingest.value;
        const quarantinedRows = generation.corruptFiles.filter((f) => f.expected === 'quarantine').reduce((a, f) => a + f.rows, 0);
        if (summary.rowsIn + quarantinedRows !== rawRows) throw new Error(`bench: ingest counted ${summary.rowsIn} rows of ${rawRows}`);
        ingestRows.push([patients, workerCount, summary.files, summary.rowsIn, seconds, summary.rowsIn / seconds, ingest.peakMiB,
          rawReference.rows / rawReference.seconds, (rawReference.rows / rawReference.seconds) / (summary.rowsIn / seconds)]);

        const labReference = reference(addresses, bucket, 'curated/lab_results');
        process.stderr.write(`[bench] features: ${patients} patients, ${workerCount} worker process(es)\n`);
        const features = await withWorkers(workerCount, env, async () => {
          const started = performance.now();
          const handle = await startFeatures(client, config, { lake: config.lake.uri, dataset: 'bench', bucketCount: BUCKETS }, `bench/features/${prefix}/${Date.now()}`);
          return { result: await follow(handle, featuresProgressQuery, () => {}, 500), seconds: (performance.now() - started) / 1000 };
        });
        const labRows = labReference.rows;
        featureRows.push([patients, workerCount, features.value.result.shards, features.value.result.rows, labRows, features.value.seconds,
          labRows / features.value.seconds, features.peakMiB, labRows / labReference.seconds, (labRows / labReference.seconds) / (labRows / features.value.seconds)]);
      } finally {
        await connection.close();
      }
    }
    store.close();
  }
  printTable('ingest: validate + normalise + de-identify + shuffle, S3 to S3 (reference: pyarrow reading the raw files, 1 thread)',
    ['patients', 'workers', 'files', 'rows in', 'seconds', 'rows/s', 'peak RSS MiB/worker', 'pyarrow read rows/s', 'pyarrow / ours'], ingestRows);
  printTable('features: curated buckets -> feature shards, S3 to S3 (reference: pyarrow reading the curated lab files, 1 thread)',
    ['patients', 'workers', 'shards', 'index stays', 'lab rows', 'seconds', 'lab rows/s', 'peak RSS MiB/worker', 'pyarrow read rows/s', 'pyarrow / ours'], featureRows);
}
