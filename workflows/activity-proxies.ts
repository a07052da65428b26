/**
 * Activity proxies by task queue. Their timeouts and retry policy come from one place,
 * workflows/retry-policies.ts (reasoning in docs/reliability.md): no attempt cap for transient
 * failures, a per-stage schedule-to-close bound, and the non-retryable error types listed so
 * Temporal never retries what cannot succeed. Queue names come from the running workflow's own
 * queue prefix.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { queuePrefixOf, taskQueue } from '../schemas/names.js';
import { stageOptions } from './retry-policies.js';

function prefix(): string {
  return queuePrefixOf(workflowInfo().taskQueue);
}

/** Short bookkeeping calls: listing, manifests, registry writes. They heartbeat on every store request. */
export function bookkeeping() {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'data'), ...stageOptions('bookkeeping') });
}

/**
 * Per-file and per-bucket work (and the feature plan, which reads every ingest manifest), with a
 * readable deterministic id (`<stage>/<shard>`). These heartbeat.
 */
export function shardActivity(activityId: string, heartbeatSeconds?: number) {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'data'), ...stageOptions('shard', heartbeatSeconds), activityId });
}

/** Feature bookkeeping on the features queue: the plan's pages, manifests, the quality check, fit merges. */
export function featureBookkeeping() {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'features'), ...stageOptions('bookkeeping') });
}

/**
 * Per-bucket feature work on the features queue (planFeatureBuild, buildFeatureShard,
 * fitFeatureShard), with a readable deterministic id; these heartbeat.
 */
export function featureShardActivity(activityId: string, heartbeatSeconds?: number) {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), 'features'), ...stageOptions('shard', heartbeatSeconds), activityId });
}

/**
 * Model training: long, heartbeating. Neural nets go to the GPU training queue (served by GPU
 * nodes, or by any worker started with `--queues train-gpu`), everything else to the CPU one.
 */
export function trainingActivity(activityId: string, queue: 'trainCpu' | 'trainGpu' = 'trainCpu', heartbeatSeconds?: number) {
  return proxyActivities<Activities>({ taskQueue: taskQueue(prefix(), queue), ...stageOptions('training', heartbeatSeconds), activityId });
}
