/**
 * What activities depend on, injected by the worker (or a test): config, keys, a logger and the
 * lake stores. Heartbeats go to the running activity when there is one, so the same functions
 * also run outside Temporal (benchmarks, the CLI's local mode).
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { asyncLocalStorage } from '@temporalio/activity';
import type { Config, Keys } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { ObjectStore } from './io/object-store.js';
import type { Curator } from './ingest/curate.js';

export interface ActivityDeps {
  config: Config;
  keys: Keys;
  logger: Logger;
  /** The store for a lake URI (cached by the implementation). */
  lake(uri: string): ObjectStore;
  /** Where raw files are curated (CPU-heavy): a worker-thread pool in workers; inline when absent. */
  curator?: Curator;
}

export function heartbeat(details?: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

/**
 * A pause inside long computation: lets the worker's event loop run (this and the other running
 * activities' heartbeats only leave the process when it does), heartbeats, and throws if the
 * activity was cancelled or timed out meanwhile, so an abandoned attempt stops using the CPU its
 * retry needs. Every CPU-bound loop in an activity calls it every few seconds of work at most.
 */
export async function pauseActivity(details?: unknown): Promise<void> {
  await yieldToLoop();
  const ctx = asyncLocalStorage.getStore();
  if (!ctx) return;
  ctx.heartbeat(details);
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
}

/** Work between two pauses of a paced computation: "every few tens of milliseconds" above. */
export const PAUSE_SLICE_MS = 50;

/** Rows between two pause points of a paced loop: cheap to offer, since `activityPace` reads a clock. */
export const ROWS_PER_PAUSE_POINT = 8192;

/** True at every ROWS_PER_PAUSE_POINT-th row: where a paced loop offers a pause. */
export const isPausePoint = (row: number) => row % ROWS_PER_PAUSE_POINT === ROWS_PER_PAUSE_POINT - 1;

/** Called at a computation's pause points; pauses (or not) as it sees fit. */
export type Pace = () => Promise<void>;

/**
 * A pace for synchronous work split at pause points: each call is cheap (a clock read) and
 * pauses the activity (`pauseActivity(details())`) only once `sliceMs` of work has run since the
 * last pause. So a loop may offer a pause point every few thousand rows without paying a
 * heartbeat and an event-loop turn for each, and several computations of one activity can share
 * it. Timing decides only when to pause, never a result.
 */
export function activityPace(details: () => unknown, sliceMs = PAUSE_SLICE_MS): Pace {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < sliceMs) return;
    await pauseActivity(details());
    last = performance.now();
  };
}

/**
 * Computations that must run both inside activities (paced) and in plain synchronous code
 * (tests, pure callers) are written once as generators whose bare `yield`s mark pause points.
 */
export type Paced<T> = Generator<void, T, void>;

/** Runs a paced computation to its end without pausing. */
export function runSync<T>(work: Paced<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/** Runs a paced computation, offering `pace` each pause point. */
export async function runPaced<T>(work: Paced<T>, pace: Pace): Promise<T> {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    await pace();
  }
}

/**
 * Heartbeats `details()` every `ms` while an activity awaits I/O (loading shards, writing files),
 * where no loop of its own would; returns the stop function. A ticker must not keep a hung
 * attempt alive: once `details()` has returned the same object for `staleMs` (no progress), it
 * stops beating, and the heartbeat timeout hands the work to a retry.
 */
export function heartbeatWhileRunning(details: () => unknown, ms = 10_000, staleMs = 10 * 60_000): () => void {
  const ctx = asyncLocalStorage.getStore();
  if (!ctx) return () => {};
  let last: unknown;
  let since = Date.now();
  const timer = setInterval(() => {
    const now = details();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    if (Date.now() - since <= staleMs) ctx.heartbeat(now);
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** Ids of the running activity for log lines (empty outside an activity). */
export function activityLogFields(): Record<string, string> {
  const ctx = asyncLocalStorage.getStore();
  if (!ctx) return {};
  const { workflowExecution, activityId, activityType, attempt } = ctx.info;
  return { workflowId: workflowExecution?.workflowId ?? '', runId: workflowExecution?.runId ?? '', activityId, activityType, attempt: String(attempt) };
}

export function sha256Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(p);
    h.update('\0');
  }
  return h.digest('hex');
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  if (!(await store.head(key))) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
}

export async function writeJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value, null, 2) + '\n', { contentType: 'application/json' });
}
