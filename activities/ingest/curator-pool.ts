/**
 * A fixed pool of worker threads running `curateFile` (curate.ts), so one worker process curates
 * on every core while its main thread stays free to poll Temporal, heartbeat and do I/O; many
 * worker processes may serve the same queue. Requests wait in one FIFO queue; each thread takes
 * one at a time (curation is synchronous and CPU-bound, so more would only interleave).
 *
 * Bytes. The request's bytes are copied once, into an ArrayBuffer of exactly the file's length,
 * and that buffer is transferred (moved, not cloned) to the thread. The copy is deliberate: the
 * caller keeps its bytes (ingestFile writes them to quarantine/ after a quarantine outcome, and
 * a retry after a thread death needs them), and they are often a view into a bigger buffer (a
 * pooled Node Buffer, a download buffer) that must not be detached, and that a structured clone
 * would copy whole. The Parquet bytes of the outcome come back transferred, without a copy
 * (curator-thread.ts).
 *
 * Crash containment. A thread that dies (an uncaught exception, `process.exit`, a terminate, the
 * thread running out of heap) fails only the request it was running, and a fresh thread replaces
 * it; queued requests go on. WebAssembly traps in parquet-wasm are already caught inside the
 * thread (io/parquet-runtime.ts) and come back as quarantine outcomes. A crash of the process
 * itself (a native abort) is beyond any thread: Temporal retries the activity elsewhere.
 * A death is a TransientError, so Temporal retries the activity, here or on another worker. So
 * that a file which deterministically kills its thread cannot loop, deaths are counted per hash
 * of the input bytes: the second death of the same bytes in this process returns a quarantine
 * outcome (reasonType CorruptFileError) instead. Across processes that bounds the attempts at
 * about two per worker process, and the activity's retry policy bounds them anyway.
 *
 * Errors thrown by curateFile come back as the same class (by `type` for carepipe's errors, by
 * name for JavaScript's own) with the same message; the stack shows the thread's frames.
 *
 * While a request waits or runs it heartbeats the activity that sent it (a no-op outside one),
 * so a queue longer than the heartbeat timeout does not time the activity out.
 *
 * Bounded. Heartbeats alone would keep a thread stuck in a decoder alive forever, and a cancelled
 * activity's file would go on using a core. So a request is bound to its activity's cancellation
 * signal: cancelled while queued, it leaves the queue; while running, its thread is terminated
 * (synchronous wasm cannot be interrupted any other way) and replaced, and the request rejects
 * with the cancellation. A request running past the deadline (`deadlineMs`, config
 * CAREPIPE_INGEST_CURATE_DEADLINE_SECONDS) has its thread terminated too, and counts as a death
 * of its bytes: retried once, quarantined the second time.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  ConfigError,
  CorruptFileError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  SchemaMismatchError,
  TransientError,
} from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { asyncLocalStorage } from '@temporalio/activity';
import { heartbeat } from '../context.js';
import type { CurateOutcome, CurateRequest } from './curate.js';
import type { SerializedError, ThreadData, ThreadMessage, ThreadRequest, ThreadTestHook } from './curator-thread.js';
import type { Curator } from './curate.js';

/** The compiled thread entry, beside this file: dist/activities/ingest/curator-thread.js. */
export const CURATOR_THREAD_ENTRY = new URL('./curator-thread.js', import.meta.url);
/** Thread deaths on the same bytes, in one process, after which the file is quarantined. */
export const DEATHS_BEFORE_QUARANTINE = 2;
export const MAX_CURATOR_THREADS = 256;
/** Threads in a row dying before they finish loading: the pool gives up (a broken install). */
const MAX_START_FAILURES = 3;
/** Input hashes whose deaths are remembered (the oldest are forgotten first). */
const REMEMBERED_HASHES = 1024;

export interface CuratorPoolOptions {
  /** Threads, 1 to 256: the machine's cores (os.availableParallelism()) in a worker process. */
  threads: number;
  logger?: Logger;
  /** How often a waiting or running request heartbeats its activity; default 10 s. */
  heartbeatMs?: number;
  /** A request still running after this long has its thread terminated (a death of its bytes); default 600 s. */
  deadlineMs?: number;
  /** parquet-wasm's memory recycle threshold in the threads (io/parquet-runtime.ts). */
  wasmRecycleBytes?: number;
  /** TEST ONLY: make threads fail on given sources (curator-thread.ts, ThreadTestHook). */
  testHooks?: ThreadTestHook[];
}

export interface CuratorPoolStats {
  /** Threads alive (starting or ready). */
  threads: number;
  busy: number;
  queued: number;
  /** Threads that died unexpectedly since the pool started. */
  threadDeaths: number;
}

export type CuratorPool = Curator & {
  readonly size: number;
  stats(): CuratorPoolStats;
  /** Finishes every request already accepted, then stops the threads; later requests are refused. */
  close(): Promise<void>;
};

interface Task {
  id: number;
  req: CurateRequest;
  running: boolean;
  resolve(outcome: CurateOutcome): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  threadId: number;
  state: 'starting' | 'idle' | 'busy' | 'stopping';
  task: Task | null;
  /** Why the pool terminated the thread under a running request: the exit is then not an unexpected death. */
  terminated?: 'deadline' | 'cancelled';
  deadline?: ReturnType<typeof setTimeout>;
  /** The uncaught error that killed the thread, reported just before its exit. */
  error?: Error;
}

type ErrorClass = new (message: string, options?: { cause?: unknown }) => Error;
const CAREPIPE_ERRORS: Record<string, ErrorClass> = {
  ConfigError,
  CorruptFileError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  SchemaMismatchError,
  TransientError,
};
const JS_ERRORS: Record<string, ErrorClass> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Rebuilds an error a thread reported: same class (carepipe's by `type`, JavaScript's by name), message and cause. */
export function reviveError(e: SerializedError): Error {
  const cause = e.cause ? Object.assign(new Error(e.cause.message), { name: e.cause.name }) : undefined;
  const options = cause ? { cause } : undefined;
  const Known = (e.type !== undefined ? CAREPIPE_ERRORS[e.type] : undefined) ?? JS_ERRORS[e.name];
  const err = Known ? new Known(e.message, options) : Object.assign(new Error(e.message, options), { name: e.name });
  const frames = (stack: string | undefined) => (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  err.stack = [`${err.name}: ${err.message}`, ...frames(e.stack), '    --- in a curator thread, reported to:', ...frames(err.stack)].join('\n');
  return err;
}

export function createCuratorPool(options: CuratorPoolOptions): CuratorPool {
  const { threads, logger } = options;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_CURATOR_THREADS) {
    throw new ConfigError(
      `curator pool: threads must be a whole number from 1 to ${MAX_CURATOR_THREADS}, got ${threads} (0 threads means curating inline, without a pool)`,
    );
  }
  const entry = fileURLToPath(CURATOR_THREAD_ENTRY);
  if (!existsSync(entry)) throw new ConfigError(`curator pool: the thread entry ${entry} does not exist; build with \`npx tsc -p tsconfig.json\``);
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const deadlineMs = options.deadlineMs ?? 600_000;
  const threadData: ThreadData = {
    ...(options.testHooks ? { testHooks: options.testHooks } : {}),
    ...(options.wasmRecycleBytes !== undefined ? { wasmRecycleBytes: options.wasmRecycleBytes } : {}),
  };

  const slots = new Set<Slot>();
  const queue: Task[] = [];
  const deathsByHash = new Map<string, number>();
  let nextId = 1;
  let threadDeaths = 0;
  let startFailures = 0;
  let broken: Error | undefined;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const busy = () => [...slots].filter((s) => s.state === 'busy').length;

  function spawn(): void {
    const worker = new Worker(CURATOR_THREAD_ENTRY, { workerData: threadData, name: 'carepipe-curator' });
    const slot: Slot = { worker, threadId: worker.threadId, state: 'starting', task: null };
    slots.add(slot);
    worker.on('message', (msg: ThreadMessage) => onMessage(slot, msg));
    worker.on('error', (err) => {
      slot.error = err;
    });
    worker.on('messageerror', (err) => onReplyLost(slot, err));
    worker.on('exit', (code) => onExit(slot, code));
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (queue.length === 0) break;
      if (slot.state === 'idle') run(slot, queue.shift()!);
    }
    if (closing && queue.length === 0 && busy() === 0) drained?.();
  }

  function run(slot: Slot, task: Task): void {
    const { req } = task;
    // One copy, of the view's bytes only, into a buffer the thread then owns (see the module doc).
    const bytes = new Uint8Array(req.bytes);
    const message: ThreadRequest = {
      id: task.id,
      req: { ...req, bytes, pseudonymKey: { id: req.pseudonymKey.id, secret: new Uint8Array(req.pseudonymKey.secret) } },
    };
    slot.state = 'busy';
    slot.task = task;
    task.running = true;
    slot.worker.ref();
    slot.deadline = setTimeout(() => {
      if (slot.task !== task) return;
      slot.terminated = 'deadline';
      void slot.worker.terminate();
    }, deadlineMs);
    slot.worker.postMessage(message, [bytes.buffer]);
  }

  /** The request's activity was cancelled: out of the queue, or its thread terminated (and replaced on exit). */
  function cancel(task: Task, reason: unknown): void {
    const queued = queue.indexOf(task);
    if (queued >= 0) queue.splice(queued, 1);
    const slot = [...slots].find((s) => s.task === task);
    if (slot) {
      clearTimeout(slot.deadline);
      slot.task = null;
      slot.terminated = 'cancelled';
      void slot.worker.terminate();
    }
    task.reject(reason instanceof Error ? reason : new TransientError(`curator: curating ${task.req.source} was cancelled`));
    dispatch();
  }

  function finish(slot: Slot): Task | null {
    const task = slot.task;
    clearTimeout(slot.deadline);
    slot.task = null;
    slot.state = 'idle';
    // An idle thread does not keep the process alive; a busy one does (its caller awaits it).
    slot.worker.unref();
    return task;
  }

  function onMessage(slot: Slot, msg: ThreadMessage): void {
    if (msg.kind === 'ready') {
      startFailures = 0;
      finish(slot);
    } else if (slot.task?.id === msg.id) {
      const task = finish(slot)!;
      if (msg.kind === 'done') task.resolve(msg.outcome);
      else task.reject(reviveError(msg.error));
    }
    dispatch();
  }

  /** A reply that could not be deserialized: the thread is idle again, its request failed. */
  function onReplyLost(slot: Slot, err: Error): void {
    const task = slot.state === 'busy' ? finish(slot) : null;
    task?.reject(new TransientError(`curator: the result of curating ${task.req.source} could not be received from its thread`, { cause: err }));
    dispatch();
  }

  function onExit(slot: Slot, code: number): void {
    slots.delete(slot);
    clearTimeout(slot.deadline);
    if (slot.state === 'stopping') return;
    if (slot.terminated === 'cancelled') {
      // Its request already rejected with the cancellation: a replacement thread, no death counted.
      if (!broken && (!closing || queue.length > 0)) spawn();
      dispatch();
      return;
    }
    threadDeaths++;
    const why =
      slot.terminated === 'deadline'
        ? `still running after the ${deadlineMs / 1000} s curation deadline`
        : slot.error
          ? `uncaught ${slot.error.name}`
          : `exit code ${code}`;
    const task = slot.task;
    if (task) {
      dieWith(task, why, slot.error);
    } else if (slot.state === 'starting' && ++startFailures >= MAX_START_FAILURES) {
      broken = new TransientError(`curator: ${startFailures} threads in a row died while loading ${entry} (last: ${why}); this worker cannot curate`, {
        cause: slot.error,
      });
      logger?.error('curator pool broken', { threadId: slot.threadId, why, entry });
      for (const queued of queue.splice(0)) queued.reject(broken);
    }
    logger?.warn('curator thread died', { threadId: slot.threadId, why, state: slot.state, source: task?.req.source });
    if (!broken && (!closing || queue.length > 0)) spawn();
    dispatch();
  }

  function dieWith(task: Task, why: string, error: Error | undefined): void {
    const { source } = task.req;
    const hash = createHash('sha256').update(task.req.bytes).digest('hex');
    const deaths = (deathsByHash.get(hash) ?? 0) + 1;
    deathsByHash.delete(hash);
    deathsByHash.set(hash, deaths);
    if (deathsByHash.size > REMEMBERED_HASHES) deathsByHash.delete(deathsByHash.keys().next().value!);
    if (deaths >= DEATHS_BEFORE_QUARANTINE) {
      task.resolve({
        kind: 'quarantine',
        reasonType: 'CorruptFileError',
        reason: `curator: curating ${source} killed a curator thread ${deaths} times (last: ${why}); quarantined rather than retried`,
      });
    } else {
      task.reject(
        new TransientError(
          `curator: the thread curating ${source} died (${why}); retried, and quarantined if the same bytes kill a thread again in this process`,
          { cause: error },
        ),
      );
    }
  }

  const curate = (req: CurateRequest): Promise<CurateOutcome> => {
    if (closing) return Promise.reject(new TransientError(`curator: the pool is closed (the worker is shutting down); ${req.source} is retried elsewhere`));
    if (broken) return Promise.reject(broken);
    const signal = asyncLocalStorage.getStore()?.cancellationSignal;
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new TransientError(`curator: ${req.source}: cancelled`));
    return new Promise<CurateOutcome>((resolve, reject) => {
      // Created here, so the timer runs in the calling activity's context and heartbeats it.
      const beat = setInterval(() => heartbeat({ step: 'curate', state: task.running ? 'running' : 'queued' }), heartbeatMs);
      beat.unref();
      const onAbort = () => cancel(task, signal?.reason);
      let settled = false;
      const settle = () => {
        settled = true;
        clearInterval(beat);
        signal?.removeEventListener('abort', onAbort);
      };
      const task: Task = {
        id: nextId++,
        req,
        running: false,
        resolve: (outcome) => {
          if (settled) return;
          settle();
          resolve(outcome);
        },
        reject: (err) => {
          if (settled) return;
          settle();
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(task);
      dispatch();
    });
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (queue.length > 0 || busy() > 0)
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
      await Promise.all(
        [...slots].map(async (slot) => {
          slot.state = 'stopping';
          await slot.worker.terminate();
        }),
      );
    })();
    return closing;
  };

  for (let i = 0; i < threads; i++) spawn();
  logger?.info('curator pool started', { threads });
  return Object.assign(curate, {
    size: threads,
    stats: (): CuratorPoolStats => ({ threads: slots.size, busy: busy(), queued: queue.length, threadDeaths }),
    close,
  });
}
