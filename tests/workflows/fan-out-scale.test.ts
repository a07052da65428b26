/**
 * The product's fan-out helper at scale: 10,000 tiny shards (an activity that records its call)
 * planned and run to completion by one workflow that continues as new whenever its history is
 * full. Every shard runs exactly once, the running sum crosses every run intact, and every run's
 * history, read back from the server, stays under the limit (Temporal warns at 10,000 events).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger } from '../../core/log.js';
import { HISTORY_EVENTS_BEFORE_CONTINUE } from '../../workflows/fan-out.js';
import { installRuntime } from '../../workers/runtime.js';
import { historyChain, type RunHistory } from '../helpers/history-chain.js';
import { testTemporalAddress } from '../helpers/services.js';
import type { FanOutShardsResult, fanOutShardsWorkflow } from './fan-out-shards-workflow.js';

const SHARDS = 10_000;
const MAX_IN_FLIGHT = 64;
const calls = new Uint32Array(SHARDS);
let result: FanOutShardsResult;
let chain: RunHistory[];
let seconds: number;

test.before(async (t) => {
  // About a minute on an idle 2-core machine (the dev server's CPU is most of it); more when other tests share the cores.
  t.timeout(10 * 60_000, '10,000 activities through the dev server');
  installRuntime(createLogger('warn', { test: 'fan-out-scale' }));
  const taskQueue = `t-fan-out-scale-${randomBytes(3).toString('hex')}`;
  const nativeConnection = await NativeConnection.connect({ address: testTemporalAddress() });
  const connection = await Connection.connect({ address: testTemporalAddress() });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fan-out-shards-workflow.js', import.meta.url)),
    activities: {
      touchShard: async (shard: number) => {
        calls[shard]!++;
        return shard;
      },
    },
    maxConcurrentActivityTaskExecutions: MAX_IN_FLIGHT * 2,
  });
  const client = new Client({ connection });
  const workflowId = `fan-out-scale/${Date.now()}`;
  try {
    const started = process.hrtime.bigint();
    result = await worker.runUntil(
      client.workflow.execute<typeof fanOutShardsWorkflow>('fanOutShardsWorkflow', {
        taskQueue,
        workflowId,
        args: [{ shards: SHARDS, maxInFlight: MAX_IN_FLIGHT }],
      }),
    );
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    chain = await historyChain(client, workflowId);
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
});

test('every one of 10,000 shards runs exactly once, and the sum carried across the runs counts each once', (t) => {
  const counts = new Map<number, number>();
  for (const c of calls) counts.set(c, (counts.get(c) ?? 0) + 1);
  t.deepEqual([...counts], [[1, SHARDS]]);
  t.is(result.shards, SHARDS);
  t.is(result.sum, (SHARDS * (SHARDS - 1)) / 2);
  t.log(`${SHARDS} shards in ${seconds.toFixed(1)} s, ${result.runs} runs`);
});

test('the run continues as new before its history passes the limit, and the chain on the server is the runs counted', (t) => {
  t.is(chain.length, result.runs);
  t.true(chain.length >= 3, `${chain.length} runs`);
  t.deepEqual(
    chain.map((r) => r.continuedAsNew),
    [...chain.slice(1).map(() => true), false],
  );
  const lengths = chain.map((r) => r.events.length);
  for (const n of lengths) t.true(n <= HISTORY_EVENTS_BEFORE_CONTINUE, `${n} events`);
  const scheduled = chain.map((r) => r.events.filter((e) => e.activityTaskScheduledEventAttributes).length);
  t.is(
    scheduled.reduce((a, b) => a + b, 0),
    SHARDS,
    'each shard scheduled in exactly one run',
  );
  t.log(`events per run: ${lengths.join(', ')}`);
});
