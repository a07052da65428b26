/**
 * The process's one parquet-wasm instance, replaced after a trap.
 *
 * parquet-wasm's Node build is CommonJS and instantiates its WebAssembly module synchronously when
 * it is first required: no init call is needed. A Rust panic inside it (a corrupt file can cause
 * one) surfaces as `WebAssembly.RuntimeError: unreachable` and unwinds nothing: the module's
 * shadow-stack pointer stays where the panic left it. The instance keeps working for a while, but
 * each trap leaks stack, and after about 690 traps every call, even on a good file, fails with
 * "memory access out of bounds" (measured with parquet-wasm 0.8.0). A trap may also leave
 * allocator or borrow state half updated. So after any trap this module drops the instance and
 * requires a fresh copy (about 16 ms, with a new, small memory). That is safe because no wasm
 * object outlives a call here: every call copies its result out of wasm memory before returning.
 *
 * The instance's memory grows to fit the largest file decoded and never shrinks (wasm memory can
 * only grow), so one large file would hold its peak for the life of the process. After a call that
 * leaves the memory above the recycle threshold (setParquetWasmRecycleBytes; config
 * CAREPIPE_PARQUET_WASM_RECYCLE_MB) the instance is replaced the same way, and the old memory is
 * garbage once nothing references it. Ingest's decoded-size cap (parquet-footer.ts) keeps any one
 * call from growing it much past the cap.
 */
import { createRequire } from 'node:module';
import type * as ParquetWasm from 'parquet-wasm';

export type ParquetWasmModule = typeof ParquetWasm;

const require = createRequire(import.meta.url);
const modulePath = require.resolve('parquet-wasm');

function load(): ParquetWasmModule {
  // Deleting the cache entry makes require evaluate the module again: a new WebAssembly.Instance.
  delete require.cache[modulePath];
  return require(modulePath) as ParquetWasmModule;
}

let instance: ParquetWasmModule = load();
let generation = 0;
let traps = 0;
let memoryRecycles = 0;
let recycleBytes = 512 * 2 ** 20;

/** Replace the instance after any call that leaves its memory above `bytes` (default 512 MiB). */
export function setParquetWasmRecycleBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`parquet-wasm: recycle threshold must be a positive whole number of bytes, got ${bytes}`);
  recycleBytes = bytes;
}

/** Bytes of the live instance's linear memory. */
export function parquetWasmMemoryBytes(): number {
  return instance.wasmMemory().buffer.byteLength;
}

function replace(): void {
  instance = load();
  generation += 1;
}

// The `WebAssembly` global is not in this project's type libraries (no DOM lib), so name its one
// class needed here.
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError;

/** Whether an error is a WebAssembly trap (a Rust panic, out-of-bounds access, stack overflow). */
export function isWasmTrap(err: unknown): err is Error {
  return err instanceof WasmRuntimeError;
}

/**
 * Runs `fn` on the live parquet-wasm instance. After a trap the instance is replaced before the
 * error is rethrown, so the next call runs on a fresh one. `fn` must not let wasm objects escape.
 */
export function withParquetWasm<T>(fn: (wasm: ParquetWasmModule) => T): T {
  try {
    return fn(instance);
  } catch (err) {
    if (isWasmTrap(err)) {
      traps += 1;
      replace();
    }
    throw err;
  } finally {
    // After a trap the new instance is small; otherwise a call that grew memory past the threshold recycles.
    if (parquetWasmMemoryBytes() > recycleBytes) {
      memoryRecycles += 1;
      replace();
    }
  }
}

/** How many times the instance was replaced (after a trap or past the memory threshold) in this process. */
export function parquetWasmGeneration(): number {
  return generation;
}

/** Replacements by cause, for tests and metrics. */
export function parquetWasmStats(): { generation: number; traps: number; memoryRecycles: number; memoryBytes: number } {
  return { generation, traps, memoryRecycles, memoryBytes: parquetWasmMemoryBytes() };
}
