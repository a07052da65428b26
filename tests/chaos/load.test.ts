/**
 * Load (issue 16, item 5): two retrains and a backfill at once on one worker process (one pool of
 * activity slots per queue) end with the same outputs as each run alone, and while they run the
 * worker's Prometheus endpoint shows its slots in use (`carepipe_worker_task_slots`, from each
 * worker's status), used and available adding up to the configured concurrency. On the chaos
 * suite's own stack (its own ports), so it shares nothing with other test files' queues.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { startBackfill } from '../../cli/runs.js';
import { REPO_ROOT } from '../../core/config.js';
import type { GeneratorInput } from '../../data-lake/generator/index.js';
import { METRICS } from '../../workers/metrics.js';
import { ChaosStack, chaosPorts, freePort } from './chaos-stack.js';
import { type ChaosEnv, newLake, openChaosEnv, resultThroughOutages, startChaosRetrain } from './jobs.js';
import { compareOutputs, outputsOf, type RunOutputs } from './outputs.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const CONCURRENCY = 2;
const BUCKETS = 4;
const LAKES: Record<string, GeneratorInput> = {
  retrainA: { patients: 300, days: 35, seed: 31, filesPerDay: 1, messiness: 'none' },
  retrainB: { patients: 300, days: 35, seed: 32, filesPerDay: 1, messiness: 'none' },
  backfill: { patients: 300, days: 10, seed: 33, filesPerDay: 1, messiness: 'none' },
};
type Job = keyof typeof LAKES;

let stack: ChaosStack | undefined;
let env: ChaosEnv | undefined;
let metricsPort = 0;
const alone = new Map<Job, RunOutputs>();
const together = new Map<Job, RunOutputs>();
/** `carepipe_worker_task_slots` samples scraped while the three ran: label set -> values seen. */
const slotSamples = new Map<string, number[]>();

async function run(job: Job, tag: string): Promise<RunOutputs> {
  const lake = await newLake(env!, `${job.toLowerCase()}-${tag}`, LAKES[job]!);
  if (job === 'backfill') {
    const { first, last } = lake.generation.ingestDates;
    const handle = await startBackfill(env!.client, env!.config, {
      actor: TEST_ACTOR,
      lake: lake.uri,
      from: first,
      to: last,
      dataset: 'readmission',
      bucketCount: BUCKETS,
    });
    await resultThroughOutages(handle);
  } else {
    await resultThroughOutages(await startChaosRetrain(env!, lake.uri, `load-${job.toLowerCase()}`, BUCKETS));
  }
  const outputs = await outputsOf(lake.store);
  lake.store.close();
  return outputs;
}

async function scrape(): Promise<void> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\}) (\S+)$/.exec(line);
    if (m?.[1] !== METRICS.slots) continue;
    slotSamples.set(m[2]!, [...(slotSamples.get(m[2]!) ?? []), Number(m[3])]);
  }
}

test.before(async (t) => {
  t.timeout(45 * 60_000);
  const ports = await chaosPorts();
  stack = await ChaosStack.start(join(REPO_ROOT, '.test-artifacts', `load-${ports.temporal}`), ports, t.log.bind(t));
  metricsPort = await freePort();
  env = await openChaosEnv(stack, {
    CAREPIPE_METRICS_PORT: String(metricsPort),
    CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: String(CONCURRENCY),
    CAREPIPE_TASK_QUEUE_PREFIX: 'load',
  });
  const aloneStart = Date.now();
  for (const job of Object.keys(LAKES)) alone.set(job, await run(job, 'alone'));
  const aloneMs = Date.now() - aloneStart;
  const togetherStart = Date.now();
  let running = true;
  const all = Promise.all(Object.keys(LAKES).map(async (job) => together.set(job, await run(job, 'together'))));
  void all.finally(() => (running = false)).catch(() => undefined);
  while (running) {
    await scrape().catch(() => undefined);
    await Promise.race([sleep(500), all.catch(() => undefined)]);
  }
  await all;
  // Reported, not asserted: timings on a shared machine say nothing about correctness.
  const used = [...slotSamples].filter(([l]) => l.includes('state="used"') && l.includes('kind="activity"')).flatMap(([, v]) => v);
  t.log(
    `one after another: ${(aloneMs / 1000).toFixed(1)} s; at once: ${((Date.now() - togetherStart) / 1000).toFixed(1)} s; most activity slots in use on one queue: ${Math.max(0, ...used)}`,
  );
});

test.after.always(async () => {
  await env?.close();
  await stack?.down();
});

for (const job of Object.keys(LAKES)) {
  test(`${job} run at once with the other two on one worker ends with the same outputs as alone`, (t) => {
    t.true((alone.get(job)?.size ?? 0) > 0);
    t.deepEqual(compareOutputs(alone.get(job)!, together.get(job)!), []);
  });
}

test('the worker exports its activity slots by queue: some in use under load, used + available = the concurrency', (t) => {
  const data = (state: string) => [...slotSamples].find(([labels]) => labels.includes('task_queue="load-data"') && labels.includes(`state="${state}"`))?.[1];
  const used = data('used');
  const available = data('available');
  t.truthy(used && available, `samples: ${[...slotSamples.keys()].join(' ')}`);
  t.true(Math.max(...used!) > 0, 'the data queue had activities in flight while the three runs ingested');
  t.true(
    used!.every((u, i) => available![i] === undefined || u + available![i] === CONCURRENCY),
    'each sample adds up to the configured slots',
  );
  const queues = new Set([...slotSamples.keys()].map((l) => /task_queue="([^"]+)"/.exec(l)?.[1]));
  t.deepEqual([...queues].sort(), ['load-data', 'load-features', 'load-orchestration', 'load-train-cpu', 'load-train-gpu']);
});
