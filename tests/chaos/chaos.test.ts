/**
 * The chaos suite's short form (issue 16, item 1), run by `npm test`: on its own stack (its own
 * ports, persistent Temporal history) a retrain over a small lake runs clean, then once with each
 * fault: a worker killed with SIGKILL, the Temporal server restarted, and the S3 server stopped
 * for 150 s, longer than the two minutes the old retry policy (8 attempts, 1-minute backoff
 * cap) survived. Each faulted run must end with the clean run's bytes, every raw row accounted
 * for and no shard output PUT twice. The long form is `npm run chaos` (tests/chaos/main.ts).
 */
import { join } from 'node:path';
import test from 'ava';
import { REPO_ROOT } from '../../core/config.js';
import { ChaosStack, chaosPorts } from './chaos-stack.js';
import { faultTable, runScenario, type ScenarioResult } from './scenario.js';

const S3_OUTAGE_MS = 150_000;
let stack: ChaosStack | undefined;
let result: ScenarioResult;

test.before(async (t) => {
  // The outage alone is 150 s; ava's default is three minutes without a result.
  t.timeout(45 * 60_000);
  const ports = await chaosPorts();
  stack = await ChaosStack.start(join(REPO_ROOT, '.test-artifacts', `chaos-${ports.temporal}`), ports, t.log.bind(t));
  result = await runScenario(stack, {
    lake: { patients: 400, days: 40, seed: 5, filesPerDay: 1, messiness: 'none' },
    faults: [
      { kind: 'kill-worker', times: 1 },
      { kind: 'restart-temporal', downMs: 5_000 },
      { kind: 's3-outage', downMs: S3_OUTAGE_MS },
    ],
    seed: 16,
    buckets: 4,
    log: t.log.bind(t),
  });
});

test.after.always(async () => {
  await stack?.down();
});

test('every fault was injected while the retrain ran, and the table reports each with its time lost', (t) => {
  t.log(`\n${faultTable(result)}`);
  t.deepEqual(
    result.runs.map((r) => r.fault),
    ['kill-worker', 'restart-temporal', 's3-outage'],
  );
  for (const r of result.runs) t.notRegex(r.injected.join(' '), /the run ended first/, `${r.fault} hit the run`);
});

for (const fault of ['kill-worker', 'restart-temporal', 's3-outage'] as const) {
  test(`after ${fault} the retrain ends with the clean run's bytes, every row accounted for and no shard written twice`, (t) => {
    const run = result.runs.find((r) => r.fault === fault)!;
    t.deepEqual(run.differences, [], 'curated, features, manifests, rejects, quarantine, model files and metrics as in the clean run');
    t.true(run.rowsAccounted, 'raw rows = rows in = accepted + corrected + rejected');
    t.deepEqual(run.rewritten, [], 'no curated generation, feature shard or model PUT twice');
  });
}
