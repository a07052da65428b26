/**
 * Ingest benchmark (issue 3): input rows a second and peak memory at two scales, with one worker
 * process and with two, on the local stack; pyarrow reading the same files is the reference
 * measured in the same run.
 */
import { Client, Connection } from '@temporalio/client';
import { ensureBucket, openStore } from '../activities/io/open-store.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { LOCAL_S3_CREDENTIALS, parseConfig } from '../core/config.js';
import { dataConverter } from '../core/codec.js';
import { writeRawLake } from '../data-lake/generator/index.js';
import { follow, ingestProgressQuery, startIngest } from '../cli/runs.js';
import type { stackAddresses } from '../infra/stack.js';
import { printTable, pythonReference, startWorker } from './harness.js';

const KEYS = {
  CAREPIPE_CODEC_KEYS: `bench:${Buffer.alloc(32, 3).toString('base64')}`,
  CAREPIPE_PSEUDONYM_KEYS: `bench:${Buffer.alloc(32, 4).toString('base64')}`,
};

async function clearDerived(store: ObjectStore): Promise<void> {
  for (const prefix of ['curated/', 'rejects/', 'manifests/', 'quarantine/']) {
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => store.delete(k)));
  }
}

export async function benchIngest(addresses: ReturnType<typeof stackAddresses>, scales: number[]): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const patients of scales) {
    const bucket = `bench-ingest-${patients}`;
    const vars = { ...KEYS, CAREPIPE_TEMPORAL_ADDRESS: addresses.temporalAddress, CAREPIPE_S3_ENDPOINT: addresses.s3Endpoint, CAREPIPE_LAKE: `s3://${bucket}` };
    const config = parseConfig(vars);
    await ensureBucket(config.lake, config.s3);
    const store = openStore(config.lake, config.s3);
    process.stderr.write(`[bench] generating ${patients} patients\n`);
    const generation = await writeRawLake(store, { patients, days: 14, seed: 1 });
    const rawRows = Object.values(generation.rows).reduce((a, b) => a + b, 0);
    const reference = pythonReference<{ rows: number; seconds: number }>('pyarrow_read.py', [
      addresses.s3Endpoint, bucket, LOCAL_S3_CREDENTIALS.accessKeyId, LOCAL_S3_CREDENTIALS.secretAccessKey,
    ]);
    for (const workerCount of [1, 2]) {
      await clearDerived(store);
      const prefix = `bench-${patients}-${workerCount}`;
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...vars, CAREPIPE_TASK_QUEUE_PREFIX: prefix, CAREPIPE_LOG_LEVEL: 'info' };
      const workers = await Promise.all(Array.from({ length: workerCount }, () => startWorker(env, ['--queues', 'orchestration,data'])));
      const workerConfig = parseConfig({ ...vars, CAREPIPE_TASK_QUEUE_PREFIX: prefix });
      const connection = await Connection.connect({ address: addresses.temporalAddress });
      const client = new Client({ connection, dataConverter: dataConverter({ activeId: 'bench', keys: new Map([['bench', Buffer.alloc(32, 3)]]), source: 'bench' }) });
      process.stderr.write(`[bench] ingest ${patients} patients, ${workerCount} worker process(es)\n`);
      const started = performance.now();
      const handle = await startIngest(client, workerConfig, { lake: workerConfig.lake.uri, bucketCount: 32 }, 'manual', `bench/ingest/${prefix}/${Date.now()}`);
      const summary = await follow(handle, ingestProgressQuery, () => {}, 500);
      const seconds = (performance.now() - started) / 1000;
      const peak = Math.max(...workers.map((w) => w.peakRssMiB()));
      await Promise.all(workers.map((w) => w.stop()));
      await connection.close();
      if (summary.rowsIn + countQuarantinedRows(generation) !== rawRows) {
        throw new Error(`bench: ingest counted ${summary.rowsIn} rows of ${rawRows}`);
      }
      rows.push([patients, workerCount, summary.files, summary.rowsIn, seconds, summary.rowsIn / seconds, peak, reference.rows / reference.seconds, (reference.rows / reference.seconds) / (summary.rowsIn / seconds)]);
    }
    store.close();
  }
  printTable('ingest: validate + normalise + de-identify + shuffle, S3 to S3 (pyarrow: read only, 1 thread, same files)',
    ['patients', 'workers', 'files', 'rows in', 'seconds', 'rows/s', 'peak RSS MiB/worker', 'pyarrow read rows/s', 'pyarrow / ours'], rows);
}

function countQuarantinedRows(generation: { corruptFiles: { rows: number; expected: string }[] }): number {
  return generation.corruptFiles.filter((f) => f.expected === 'quarantine').reduce((a, f) => a + f.rows, 0);
}
