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
 * The instance's memory grows to fit the largest file decoded and never shrinks.
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
      instance = load();
      generation += 1;
    }
    throw err;
  }
}

/** How many times the instance was replaced after a trap in this process (for tests and metrics). */
export function parquetWasmGeneration(): number {
  return generation;
}
