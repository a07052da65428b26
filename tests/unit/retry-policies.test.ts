/**
 * The retry policies of workflows/retry-policies.ts as Temporal receives them (compiled by the
 * SDK, which refuses what the server would not take): no attempt cap, a backoff cap of a few
 * minutes, every non-retryable domain error listed, and per stage a schedule-to-close bound
 * that outlasts an outage of several minutes (the old policy, 8 attempts with a 1-minute cap,
 * gave up after about two) while an attempt stays bounded by its heartbeat and start-to-close.
 */
import test from 'ava';
import { compileRetryPolicy, msToNumber } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../../core/errors.js';
import { RETRY_POLICY, STAGE_POLICIES, type StageKind, stageOptions } from '../../workflows/retry-policies.js';

const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);

/** When each retry starts (ms after the first failure) under Temporal's backoff: initial x coefficient^n, capped. */
function retryStarts(limitMs: number): number[] {
  const starts: number[] = [];
  let at = 0;
  let interval = msToNumber(RETRY_POLICY.initialInterval);
  while (at + interval <= limitMs) {
    at += interval;
    starts.push(at);
    interval = Math.min(interval * RETRY_POLICY.backoffCoefficient!, msToNumber(RETRY_POLICY.maximumInterval));
  }
  return starts;
}

test('the retry policy compiles for the server with no attempt cap, a 2-minute backoff cap and every non-retryable type', (t) => {
  const compiled = compileRetryPolicy(RETRY_POLICY);
  t.falsy(compiled.maximumAttempts, 'no attempt cap: 0 or unset both mean unlimited to the server');
  t.is(seconds(compiled.initialInterval), 1);
  t.is(compiled.backoffCoefficient, 2);
  t.is(seconds(compiled.maximumInterval), 120);
  t.deepEqual(compiled.nonRetryableErrorTypes, [...NON_RETRYABLE_ERROR_TYPES]);
  t.false(compiled.nonRetryableErrorTypes!.includes('TransientError'));
});

test('an S3 outage of 30 minutes is retried through: attempts keep coming every 2 minutes at most, and resume within 2 minutes of its end', (t) => {
  const outageMs = 30 * 60_000;
  const starts = retryStarts(outageMs + 120_000);
  t.true(starts.length > 8, `more attempts than the old cap of 8 (${starts.length})`);
  const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
  t.is(Math.max(...gaps), 120_000);
  t.true(
    starts.some((s) => s > outageMs && s <= outageMs + 120_000),
    'an attempt starts within 2 minutes after the outage',
  );
});

for (const kind of Object.keys(STAGE_POLICIES) as StageKind[]) {
  test(`${kind} activities: schedule-to-close outlasts an hour-long outage's retries, one attempt is bounded by heartbeat and start-to-close`, (t) => {
    const o = stageOptions(kind);
    const scheduleToClose = msToNumber(o.scheduleToCloseTimeout);
    const startToClose = msToNumber(o.startToCloseTimeout);
    const heartbeat = msToNumber(o.heartbeatTimeout);
    t.true(scheduleToClose >= 2 * 3600_000, `${kind}: at least two hours of attempts (${scheduleToClose / 3600_000} h)`);
    t.true(startToClose < scheduleToClose);
    t.true(heartbeat <= 120_000 && heartbeat < startToClose, `${kind}: a silent attempt is declared lost within two minutes`);
    t.is(o.retry, RETRY_POLICY);
    t.is(msToNumber(stageOptions(kind, 7).heartbeatTimeout), 7000, 'a run may set its own heartbeat timeout');
  });
}
