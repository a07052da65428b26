/**
 * One carepipe run raw -> features on a bench lake, through real `carepipe worker` processes:
 * ingest (with whatever the ingest workflow does after the files: manifests, compaction, the
 * quality check) and then the feature build, each stage with its own set of worker processes so
 * each has its own peak RSS, request counts and (with `profile`) CPU profile. The clock runs from
 * the start of the stage's workflow to its result; starting workers (bundling workflows) is not
 * counted.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startFeatures } from '../../cli/runs.js';
import { follow, ingestProgressQuery, startIngest } from '../../cli/runs.js';
import { dataConverter } from '../../core/codec.js';
import { parseConfig } from '../../core/config.js';
import type { stackAddresses } from '../../infra/stack.js';
import type { FeaturesResult, IngestSummary } from '../../schemas/workflows.js';
import { featuresProgressQuery } from '../../workflows/index.js';
import { startWorker, type WorkerProcess } from '../harness.js';
import type { BenchLake } from './lakes.js';
import { addCounts, freePort, scrapeSettled } from './scrape.js';
import { TEST_ACTOR } from '../../tests/helpers/identity.js';

const CODEC_KEY = Buffer.alloc(32, 3);
const KEYS = {
  CAREPIPE_CODEC_KEYS: `bench:${CODEC_KEY.toString('base64')}`,
  CAREPIPE_PSEUDONYM_KEYS: `bench:${Buffer.alloc(32, 4).toString('base64')}`,
};
export const BENCH_BUCKETS = 32;

/** Which processes serve which queues: one, two alike, or the data stage apart from the feature build. */
export type Layout = 'one' | 'two' | 'split';
const LAYOUTS: Record<Layout, string[]> = {
  one: ['orchestration,data,features'],
  two: ['orchestration,data,features', 'orchestration,data,features'],
  split: ['orchestration,data', 'features'],
};

export interface StageRun<R> {
  result: R;
  seconds: number;
  /** Per worker process, in LAYOUTS order. */
  peakMiB: number[];
  requests: Record<string, number>;
  /** Task queue -> activity attempts completed there, over the stage's processes. */
  activitiesByQueue: Record<string, number>;
  /** The machine's 1-minute load average when the stage ended: on a shared machine, how much else ran. */
  load: number;
}

export interface PipelineRun {
  ingest: StageRun<IngestSummary>;
  features: StageRun<FeaturesResult>;
}

export interface RunOptions {
  addresses: ReturnType<typeof stackAddresses>;
  lake: BenchLake;
  layout: Layout;
  /** Task queue prefix: the run's own queues. */
  prefix: string;
  /** A folder for `node --cpu-prof` output, one subfolder per stage; none: no profile. */
  profileDir?: string;
}

async function withStageWorkers<R>(opts: RunOptions, stage: string, fn: () => Promise<R>): Promise<StageRun<R>> {
  const { addresses, lake, layout, prefix, profileDir } = opts;
  const workers: { proc: WorkerProcess; port: number }[] = [];
  const profileFolder = profileDir ? join(profileDir, stage) : undefined;
  if (profileFolder) {
    rmSync(profileFolder, { recursive: true, force: true });
    mkdirSync(profileFolder, { recursive: true });
  }
  try {
    for (const queues of LAYOUTS[layout]) {
      const port = await freePort();
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...KEYS,
        CAREPIPE_TEMPORAL_ADDRESS: addresses.temporalAddress,
        CAREPIPE_S3_ENDPOINT: addresses.s3Endpoint,
        // versitygw accepts SSE but does not confirm it: the local stack's development exception.
        CAREPIPE_LOCAL_DEVELOPMENT: 'true',
        CAREPIPE_LAKE: lake.uri,
        CAREPIPE_TASK_QUEUE_PREFIX: prefix,
        CAREPIPE_LOG_LEVEL: 'info',
        CAREPIPE_METRICS_PORT: String(port),
      };
      const nodeArgs = profileFolder ? ['--cpu-prof', `--cpu-prof-dir=${profileFolder}`] : [];
      workers.push({ proc: await startWorker(env, ['--queues', queues], nodeArgs), port });
    }
    const started = performance.now();
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    const requests: Record<string, number> = {};
    const activitiesByQueue: Record<string, number> = {};
    for (const w of workers) {
      const counts = await scrapeSettled(w.port);
      addCounts(requests, counts.requests);
      addCounts(activitiesByQueue, counts.activitiesByQueue);
    }
    return { result, seconds, peakMiB: workers.map((w) => w.proc.peakRssMiB()), requests, activitiesByQueue, load: loadavg()[0] ?? Number.NaN };
  } finally {
    await Promise.all(workers.map((w) => w.proc.stop()));
  }
}

/** Ingest of every raw file not yet ingested, then the feature build, on `opts.lake`. */
export async function runPipeline(opts: RunOptions, label: string): Promise<PipelineRun> {
  const vars = {
    ...KEYS,
    CAREPIPE_TEMPORAL_ADDRESS: opts.addresses.temporalAddress,
    CAREPIPE_S3_ENDPOINT: opts.addresses.s3Endpoint,
    // versitygw accepts SSE but does not confirm it: the local stack's development exception.
    CAREPIPE_LOCAL_DEVELOPMENT: 'true',
    CAREPIPE_LAKE: opts.lake.uri,
    CAREPIPE_TASK_QUEUE_PREFIX: opts.prefix,
  };
  const config = parseConfig(vars);
  const connection = await Connection.connect({ address: opts.addresses.temporalAddress });
  const client = new Client({ connection, dataConverter: dataConverter({ activeId: 'bench', keys: new Map([['bench', CODEC_KEY]]), source: 'bench' }) });
  const id = `${opts.prefix}/${Date.now()}`;
  try {
    process.stderr.write(`[bench] ${label}: ingest\n`);
    const ingest = await withStageWorkers(opts, 'ingest', async () => {
      const handle = await startIngest(
        client,
        config,
        { actor: TEST_ACTOR, lake: config.lake.uri, bucketCount: BENCH_BUCKETS },
        'manual',
        `bench/ingest/${id}`,
      );
      return follow(handle, ingestProgressQuery, () => {}, 500);
    });
    process.stderr.write(`[bench] ${label}: ingest ${ingest.seconds.toFixed(1)} s; features\n`);
    const features = await withStageWorkers(opts, 'features', async () => {
      const handle = await startFeatures(
        client,
        config,
        { actor: TEST_ACTOR, lake: config.lake.uri, dataset: 'bench', bucketCount: BENCH_BUCKETS },
        `bench/features/${id}`,
      );
      return follow(handle, featuresProgressQuery, () => {}, 500);
    });
    process.stderr.write(`[bench] ${label}: features ${features.seconds.toFixed(1)} s\n`);
    return { ingest, features };
  } finally {
    await connection.close();
  }
}
