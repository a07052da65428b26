/**
 * A curator pool thread (curator-pool.ts starts it from dist/activities/ingest/curator-thread.js):
 * runs `curateFile` on each request the pool posts, one at a time, and posts the outcome back.
 * The input bytes arrive transferred; the bytes of the outcome (its rows as Arrow IPC, the rejects) leave
 * transferred too, so a file's bytes cross the thread boundary without a structured-clone copy.
 * An error thrown by curateFile comes back as its name, `type`, message and stack, so the pool can
 * rebuild the same error class. It only serves requests when it runs as a worker thread: the
 * pool imports its types alone.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { InvalidInputError } from '../../core/errors.js';
import { type CurateOutcome, type CurateRequest, curateFile } from './curate.js';

export interface ThreadRequest {
  id: number;
  req: CurateRequest;
}

export interface SerializedError {
  name: string;
  /** CarepipeError's stable type, when it is one. */
  type?: string;
  message: string;
  stack?: string;
  cause?: { name: string; message: string };
}

export type ThreadMessage =
  /** Sent once the thread's modules are loaded: from then on a death is charged to a request, not to start-up. */
  { kind: 'ready' } | { kind: 'done'; id: number; outcome: CurateOutcome } | { kind: 'failed'; id: number; error: SerializedError };

/**
 * TEST ONLY (tests/activities/curator-pool.test.ts); production pools never set it. Makes the
 * thread fail on a request whose source ends with `source`: `exit` ends the thread
 * (`process.exit` in a worker ends the thread only), `uncaught` throws outside any try so the
 * thread dies of an uncaught exception, `throw` throws an InvalidInputError from inside curation.
 */
export interface ThreadTestHook {
  source: string;
  action: 'exit' | 'uncaught' | 'throw';
}

export interface ThreadData {
  testHooks?: ThreadTestHook[];
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const type = (err as { type?: unknown }).type;
  const cause = err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message } : undefined;
  return {
    name: err.name,
    message: err.message,
    ...(typeof type === 'string' ? { type } : {}),
    ...(err.stack ? { stack: err.stack } : {}),
    ...(cause ? { cause } : {}),
  };
}

/**
 * The outcome with each byte array backed by an ArrayBuffer of its own, and those buffers. A fresh
 * buffer (parquet-wasm's output, Arrow's IPC writer's) moves as is; a view into a bigger or shared buffer is copied first, since transferring it would detach
 * (or fail on) memory something else holds.
 */
function transferable(outcome: CurateOutcome): { outcome: CurateOutcome; transfer: ArrayBuffer[] } {
  if (outcome.kind === 'quarantine') return { outcome, transfer: [] };
  const seen = new Set<ArrayBuffer>();
  const own = (bytes: Uint8Array): Uint8Array => {
    const buffer = bytes.buffer;
    const whole = buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength && !seen.has(buffer);
    const result = whole ? bytes : new Uint8Array(bytes);
    seen.add(result.buffer as ArrayBuffer);
    return result;
  };
  const rows = own(outcome.rows);
  const rejects = outcome.rejects === null ? null : own(outcome.rejects);
  return { outcome: { ...outcome, rows, rejects }, transfer: [...seen] };
}

function serve(port: NonNullable<typeof parentPort>, data: ThreadData): void {
  port.on('message', (msg: ThreadRequest) => {
    // TEST ONLY: inert unless a test passed hooks (see ThreadTestHook).
    const hook = data.testHooks?.find((h) => msg.req.source.endsWith(h.source));
    if (hook?.action === 'exit') process.exit(70);
    // Outside the try on purpose: the exception escapes the listener and kills the thread.
    if (hook?.action === 'uncaught') throw new Error('curator test hook: uncaught exception');
    let reply: ThreadMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      if (hook?.action === 'throw') throw new InvalidInputError(`curator test hook: refused ${msg.req.source}`);
      const result = transferable(curateFile(msg.req));
      reply = { kind: 'done', id: msg.id, outcome: result.outcome };
      transfer = result.transfer;
    } catch (err) {
      reply = { kind: 'failed', id: msg.id, error: serializeError(err) };
    }
    port.postMessage(reply, transfer);
  });
  port.postMessage({ kind: 'ready' } satisfies ThreadMessage);
}

if (!isMainThread && parentPort) serve(parentPort, (workerData ?? {}) as ThreadData);
