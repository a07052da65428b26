/**
 * carepipe's own worker metrics, beside the SDK runtime's: rows processed, activity (shard)
 * latency and failures by error type. One activity interceptor measures every activity, so no
 * activity carries metrics code; values go through the installed runtime's metric meter, which
 * exports them on the Prometheus endpoint (workers/runtime.ts) with the SDK's own (and does
 * nothing when no endpoint is configured). Tags: namespace, task queue, activity type, outcome
 * or error type; never a key or a value.
 */
import { performance } from 'node:perf_hooks';
import type { Context } from '@temporalio/activity';
import type { MetricCounter, MetricHistogram } from '@temporalio/common';
import { type ActivityInterceptors, type ActivityInterceptorsFactory, Runtime, type Worker } from '@temporalio/worker';
import { classify } from '../core/errors.js';
import { onStoreRequest } from '../activities/io/store-requests.js';

export const METRICS = {
  /** Counter: rows an activity processed (see rowsOf), by activity type. */
  rows: 'carepipe_rows_processed',
  /** Histogram (ms): how long each activity (an ingest file, a feature shard, a training) took, by outcome. */
  duration: 'carepipe_activity_duration_milliseconds',
  /** Counter: failed activity attempts, by error type and whether Temporal retries them. */
  failures: 'carepipe_activity_failures',
  /** Counter: object store requests by store kind (`file`, `s3`) and operation (activities/io/store-requests.ts). */
  storeRequests: 'carepipe_store_requests',
  /**
   * Gauge: task slots of this process by task queue, kind (`activity`, `workflow`) and state
   * (`used`, `available`), from each worker's own status: how full the pool is, whatever the SDK
   * version's own gauges cover (its `temporal_worker_task_slots_used` appears per queue only once
   * a slot was used).
   */
  slots: 'carepipe_worker_task_slots',
} as const;

/**
 * Rows an activity processed, from its result: the shard activities' inputs, skipped work not
 * counted (ingestFile, and each file of ingestFiles: raw rows of a file curated now; buildFeatureShard: index stays of a shard
 * computed or copied now; fitFeatureShard: training rows seen). Bookkeeping activities that only
 * sum these (manifests, merges) count nothing, so a sum over activity types counts each row once.
 */
export function rowsOf(activityType: string, result: unknown): number {
  if (activityType === 'ingestFiles') return Array.isArray(result) ? result.reduce((sum: number, r: unknown) => sum + rowsOf('ingestFile', r), 0) : 0;
  if (typeof result !== 'object' || result === null) return 0;
  const r = result as { rowsIn?: unknown; rows?: unknown; status?: unknown; skipped?: unknown; reusedFrom?: unknown };
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  switch (activityType) {
    case 'ingestFile':
      return r.status === 'skipped' ? 0 : n(r.rowsIn);
    case 'buildFeatureShard':
      return r.skipped === true && r.reusedFrom === undefined ? 0 : n(r.rows);
    case 'fitFeatureShard':
      return n(r.rows);
    default:
      return 0;
  }
}

interface Instruments {
  rows: MetricCounter;
  duration: MetricHistogram;
  failures: MetricCounter;
}

let instruments: Instruments | undefined;

/** Created once on the installed runtime's meter (so the endpoint lists them with the SDK's). */
function meter(): Instruments {
  if (instruments) return instruments;
  const m = Runtime.instance().metricMeter;
  instruments = {
    rows: m.createCounter(METRICS.rows, 'rows', 'Input rows processed by carepipe activities'),
    duration: m.createHistogram(METRICS.duration, 'float', 'ms', 'Duration of carepipe activity attempts (one per file, shard or model)'),
    failures: m.createCounter(METRICS.failures, 'attempts', 'Failed carepipe activity attempts by error type'),
  };
  return instruments;
}

function interceptorsFor(ctx: Context): ActivityInterceptors {
  // Snake-case tags, as the SDK's own metrics have them, so one query joins both.
  const tags = { namespace: ctx.info.activityNamespace, task_queue: ctx.info.taskQueue, activity_type: ctx.info.activityType };
  return {
    inbound: {
      async execute(input, next) {
        const { rows, duration, failures } = meter();
        const started = performance.now();
        try {
          const result = await next(input);
          duration.record(performance.now() - started, { ...tags, outcome: 'completed' });
          const n = rowsOf(tags.activity_type, result);
          if (n > 0) rows.add(n, tags);
          return result;
        } catch (err) {
          duration.record(performance.now() - started, { ...tags, outcome: 'failed' });
          const { type, retryable } = classify(err);
          failures.add(1, { ...tags, error_type: type, retryable: String(retryable) });
          throw err;
        }
      },
    },
  };
}

/** For `Worker.create({ interceptors: { activity: [activityMetrics] } })`. */
export const activityMetrics: ActivityInterceptorsFactory = interceptorsFor;

let storeRequestsExported = false;

/**
 * Exports the lake stores' request counts as `carepipe_store_requests_total{store,op}` on the
 * installed runtime's meter: every request from now on, by the stores of this process. Called
 * once per worker process, after the runtime is installed.
 */
export function exportStoreRequests(): void {
  if (storeRequestsExported) return;
  storeRequestsExported = true;
  const counter = Runtime.instance().metricMeter.createCounter(METRICS.storeRequests, 'requests', 'Object store requests by store kind and operation');
  onStoreRequest((store, op) => counter.add(1, { store, op }));
}

/** Slots of one worker from its status: in-flight activities or workflow activations against its maximum. */
export function slotUsage(worker: Pick<Worker, 'getStatus' | 'options'>): { kind: 'activity' | 'workflow'; used: number; available: number } {
  const status = worker.getStatus();
  const o = worker.options;
  // carepipe's workers serve either workflows (the orchestration queue) or activities, never both.
  const isWorkflow = o.activities.size === 0;
  const used = isWorkflow ? status.numInFlightWorkflowActivations : status.numInFlightNonLocalActivities;
  const supplier = isWorkflow ? o.tuner.workflowTaskSlotSupplier : o.tuner.activityTaskSlotSupplier;
  const max = supplier.type === 'fixed-size' ? supplier.numSlots : used;
  return { kind: isWorkflow ? 'workflow' : 'activity', used, available: Math.max(0, max - used) };
}

/**
 * Exports `carepipe_worker_task_slots{task_queue,kind,state}` for these workers, sampled every
 * `intervalMs` (the runtime exports gauges on its own schedule). Returns a stop function.
 */
export function exportSlotUsage(workers: readonly Worker[], intervalMs = 1000): () => void {
  const gauge = Runtime.instance().metricMeter.createGauge(METRICS.slots, 'int', 'slots', 'Task slots of this worker process by queue, kind and state');
  const sample = () => {
    for (const w of workers) {
      const { kind, used, available } = slotUsage(w);
      const tags = { task_queue: w.options.taskQueue, kind };
      gauge.set(used, { ...tags, state: 'used' });
      gauge.set(available, { ...tags, state: 'available' });
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
