/**
 * Retry policies and time bounds of every activity, by stage, in one place (the reasoning is in
 * docs/reliability.md, one table). Transient failures (an S3 outage, a killed worker, a lost
 * heartbeat) are retried with no attempt cap: what bounds a stage is its schedule-to-close time,
 * which covers every attempt and backoff, so an outage of minutes delays a run instead of failing
 * it. Backoff doubles from one second to a cap of two minutes: once a store or server is back, a
 * stage resumes within two minutes. Failures that cannot succeed on a retry (schema mismatch,
 * corrupt file, invalid input or config, a lost conditional write) stay non-retryable.
 * Workflow-safe: no imports but types and the error list.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import { SHARD_HEARTBEAT_SECONDS, TRAINING_HEARTBEAT_SECONDS } from './timeouts.js';

/** The activity kinds a stage is made of (docs/reliability.md lists which activity is which). */
export type StageKind = 'bookkeeping' | 'shard' | 'training';

export interface StagePolicy {
  /** One attempt's bound (a heartbeat timeout also ends a silent attempt sooner). */
  startToClose: string;
  /** Every attempt and every backoff of one activity together: the stage's real bound. */
  scheduleToClose: string;
  /** Default heartbeat timeout; a run may set a shorter or longer one for shards and training. */
  heartbeatSeconds: number;
}

/** Heartbeat timeout of bookkeeping activities: they heartbeat on every store request. */
export const BOOKKEEPING_HEARTBEAT_SECONDS = 60;

/** Backoff cap: the longest a stage waits after its store or server is back. */
export const MAXIMUM_RETRY_INTERVAL = '2m';

export const STAGE_POLICIES: Readonly<Record<StageKind, StagePolicy>> = {
  bookkeeping: { startToClose: '10m', scheduleToClose: '2h', heartbeatSeconds: BOOKKEEPING_HEARTBEAT_SECONDS },
  shard: { startToClose: '1h', scheduleToClose: '6h', heartbeatSeconds: SHARD_HEARTBEAT_SECONDS },
  training: { startToClose: '6h', scheduleToClose: '24h', heartbeatSeconds: TRAINING_HEARTBEAT_SECONDS },
};

/** The retry policy every stage shares: no attempt cap, a two-minute backoff cap, the non-retryable types. */
export const RETRY_POLICY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: MAXIMUM_RETRY_INTERVAL,
  // No maximumAttempts: unlimited (the SDK refuses 0); the schedule-to-close time bounds the attempts instead.
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** Activity options of one stage kind (with the run's own heartbeat timeout, when it sets one). */
export function stageOptions(kind: StageKind, heartbeatSeconds?: number): ActivityOptions {
  const p = STAGE_POLICIES[kind];
  return {
    startToCloseTimeout: p.startToClose,
    scheduleToCloseTimeout: p.scheduleToClose,
    heartbeatTimeout: `${heartbeatSeconds ?? p.heartbeatSeconds}s`,
    retry: RETRY_POLICY,
  };
}
