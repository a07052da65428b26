/**
 * Activity proxies by task queue, with timeouts and the retry policy declared once. Non-retryable
 * error types (schema mismatch, corrupt file, invalid input, ...) are listed so Temporal never
 * retries what cannot succeed. Queue names come from the running workflow's own queue prefix.
 */
import { type ActivityOptions, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import { queuePrefixOf, taskQueue } from '../schemas/names.js';
import { SHARD_HEARTBEAT_SECONDS, TRAINING_HEARTBEAT_SECONDS } from './timeouts.js';

const retry: ActivityOptions['retry'] = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 8,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

function prefix(): string {
  return queuePrefixOf(workflowInfo().taskQueue);
}

/** Short bookkeeping calls: listing, manifests, registry writes. */
export function bookkeeping() {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'data'), startToCloseTimeout: '5m', retry });
}

/**
 * Per-file and per-bucket work (and the feature plan, which reads every ingest manifest), with a
 * readable deterministic id (`<stage>/<shard>`). These heartbeat.
 */
export function shardActivity(activityId: string, heartbeatSeconds = SHARD_HEARTBEAT_SECONDS) {
  return proxyActivities<Activities>({
    taskQueue: taskQueue(prefix(), 'data'),
    startToCloseTimeout: '1h',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry,
    activityId,
  });
}

/** Feature bookkeeping on the features queue: the plan's pages, manifests, the quality check, fit merges. */
export function featureBookkeeping() {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'features'), startToCloseTimeout: '5m', retry });
}

/**
 * Per-bucket feature work on the features queue (planFeatureBuild, buildFeatureShard,
 * fitFeatureShard), with a readable deterministic id; these heartbeat.
 */
export function featureShardActivity(activityId: string, heartbeatSeconds = SHARD_HEARTBEAT_SECONDS) {
  return proxyActivities<Activities>({
    taskQueue: taskQueue(prefix(), 'features'),
    startToCloseTimeout: '1h',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry,
    activityId,
  });
}

/**
 * Model training: long, heartbeating. Neural nets go to the GPU training queue (served by GPU
 * nodes, or by any worker started with `--queues train-gpu`), everything else to the CPU one.
 */
export function trainingActivity(activityId: string, queue: 'trainCpu' | 'trainGpu' = 'trainCpu', heartbeatSeconds = TRAINING_HEARTBEAT_SECONDS) {
  return proxyActivities<Activities>({
    taskQueue: taskQueue(prefix(), queue),
    startToCloseTimeout: '6h',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry,
    activityId,
  });
}
