/**
 * A `carepipe worker --metrics-port` process on the real test stack: after a small ingest through
 * it (and one that fails on a missing bucket), its Prometheus endpoint holds the SDK runtime's
 * metrics and carepipe's own (rows processed, activity latency, failures by error type) with the
 * values the runs produced, and its stderr is one JSON object a line, activity lines carrying
 * the workflow, run and activity ids.
 */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeRawLake } from '../../data-lake/generator/index.js';
import type { IngestSummary } from '../../schemas/workflows.js';
import { METRICS } from '../../workers/metrics.js';
import { type BackgroundCli, runCli, startCli } from '../helpers/cli.js';
import { pipelineCliEnv } from '../helpers/pipeline-cli.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';

let env: PipelineEnv;
let worker: BackgroundCli;
let port: number;
let ingest: IngestSummary;
let metricsText: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `check`; generous, because a worker bundling its workflows on a busy 2-core machine takes its time. */
async function until(what: string, check: () => boolean | Promise<boolean>, attempts = 1200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Samples of a metric: label set (as written) -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

function sampleWith(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const [set, value] of samples(text, name)) {
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) return value;
  }
  return undefined;
}

test.before(async () => {
  env = await createPipelineEnv('metrics');
  await writeRawLake(env.deps.lake(env.lakeUri), { patients: 300, days: 2, seed: 3, messiness: 'none' });
  port = await freePort();
  // The missing bucket is on the worker's allow-list, so the run fails at the store (ConfigError), not at the allow-list.
  const missing = `s3://t-metrics-missing-${Date.now().toString(36)}`;
  const allow = { CAREPIPE_LAKE_ALLOW: `${env.lakeUri},${missing}` };
  worker = startCli(['worker', '--metrics-port', String(port), '--curator-threads', '0'], pipelineCliEnv(env, { CAREPIPE_LOG_LEVEL: 'info', ...allow }));
  await until('the worker to start', () => worker.output().stderr.includes('"msg":"worker started"'));
  // One file a task, so activities and files can be counted against each other.
  const ok = await runCli(['ingest', '--buckets', '4', '--files-per-task', '1', '--json'], pipelineCliEnv(env));
  if (ok.code !== 0) throw new Error(ok.stderr);
  ingest = JSON.parse(ok.stdout) as IngestSummary;
  const failing = await runCli(['ingest', '--lake', missing, '--buckets', '4'], pipelineCliEnv(env, allow));
  if (failing.code !== 1) throw new Error(`the ingest on a missing bucket should fail (exit 1), got ${failing.code}: ${failing.stderr}`);
  // The runtime exports on its own schedule: wait until this run's rows are in.
  await until('the metrics of the runs', async () => {
    metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // Kept as a test artefact: what a Prometheus scrape of a worker sees.
    const dir = process.env.CAREPIPE_TEST_ARTIFACTS ?? '.test-artifacts';
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'worker-metrics.txt'), metricsText);
    return (
      sampleWith(metricsText, `${METRICS.rows}_total`, { activity_type: 'ingestFiles' }) === ingest.rowsIn &&
      sampleWith(metricsText, `${METRICS.failures}_total`, { activity_type: 'listRawFiles' }) !== undefined
    );
  });
});

test.after.always(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await env?.close();
});

test("the endpoint serves the SDK runtime's own metrics for this worker's task queues", (t) => {
  const slots = samples(metricsText, 'temporal_worker_task_slots_available');
  t.true(slots.size > 0, 'task slot gauges are exported');
  t.true([...slots.keys()].some((labels) => labels.includes(`task_queue="${env.queuePrefix}-data"`)));
  const polls = sampleWith(metricsText, 'temporal_activity_execution_latency_count', { task_queue: `${env.queuePrefix}-data`, activity_type: 'ingestFiles' });
  t.is(polls, ingest.files, 'one activity execution per raw file');
});

test('rows processed counts every raw row the ingest read, tagged by activity type', (t) => {
  t.true(ingest.rowsIn > 1000);
  t.is(sampleWith(metricsText, `${METRICS.rows}_total`, { activity_type: 'ingestFiles', task_queue: `${env.queuePrefix}-data` }), ingest.rowsIn);
});

test('activity latency is a histogram with one observation per file', (t) => {
  const count = sampleWith(metricsText, `${METRICS.duration}_count`, { activity_type: 'ingestFiles', outcome: 'completed' });
  t.is(count, ingest.files);
  const sum = sampleWith(metricsText, `${METRICS.duration}_sum`, { activity_type: 'ingestFiles', outcome: 'completed' });
  t.true(sum !== undefined && sum > 0);
  t.true(samples(metricsText, `${METRICS.duration}_bucket`).size > 1, 'the histogram has buckets');
});

test('store requests are counted by store kind and operation: every raw file read, every output written', (t) => {
  const n = (op: string) => sampleWith(metricsText, `${METRICS.storeRequests}_total`, { store: 's3', op }) ?? 0;
  t.true(n('get') + n('getRange') >= ingest.files, `each of the ${ingest.files} raw files is read (get ${n('get')}, getRange ${n('getRange')})`);
  t.true(n('put') >= ingest.files, `each file's manifest at least is written (put ${n('put')})`);
  t.true(n('list') >= 1, 'the raw zone is listed');
  t.is(sampleWith(metricsText, `${METRICS.storeRequests}_total`, { store: 'file' }), undefined, 'an s3:// lake makes no file:// requests');
});

test('failures are counted by error type and retryability', (t) => {
  const failed = sampleWith(metricsText, `${METRICS.failures}_total`, { activity_type: 'listRawFiles', error_type: 'ConfigError', retryable: 'false' });
  t.is(failed, 1, 'a missing bucket is a ConfigError, failed once and never retried');
});

test('worker logs are one JSON object a line; activity lines carry the workflow, run and activity ids', (t) => {
  const lines = worker
    .output()
    .stderr.split('\n')
    .filter((l) => l.trim() !== '');
  t.true(lines.length > 3);
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const e of entries) {
    t.is(typeof e.ts, 'string');
    t.true(['debug', 'info', 'warn', 'error'].includes(e.level as string));
  }
  const ingested = entries.filter((e) => e.msg === 'file ingested');
  t.is(ingested.length, ingest.files);
  for (const e of ingested) {
    t.regex(e.workflowId as string, /^ingest\/\d{8}T\d{6}Z$/);
    t.regex(e.runId as string, /^[0-9a-f-]{36}$/);
    t.regex(e.activityId as string, /^ingest\/[a-z_]+\/\d{4}-\d{2}-\d{2}\/[0-9a-f]{8}\/1$/);
  }
  const started = entries.find((e) => e.msg === 'worker started');
  t.is(started?.metrics, `http://127.0.0.1:${port}/metrics`);
  const failure = entries.find((e) => e.source === 'temporal' && e.activityType === 'listRawFiles');
  t.truthy(failure, "the SDK's line about the failed activity is JSON too, with its ids");
  t.regex(failure!.workflowId as string, /^ingest\//);
});
