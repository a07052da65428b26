/**
 * The faults the chaos suite injects into a running retrain, each at random points of it (drawn
 * from the scenario's seeded generator, as fractions of the clean run's duration):
 * - `kill-worker`: SIGKILL to the worker process, `times` times (the pool starts a new one, as
 *   an orchestrator would), each once the previous replacement polls;
 * - `restart-temporal`: the Temporal dev server stopped and started again after `downMs` (its
 *   history is a SQLite file: nothing of the runs is lost);
 * - `s3-outage`: versitygw stopped for `downMs`, longer than the two minutes the old retry
 *   policy (8 attempts, 1-minute backoff cap) survived.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosStack, WorkerPool } from './chaos-stack.js';

export type Fault = { kind: 'kill-worker'; times: number } | { kind: 'restart-temporal'; downMs: number } | { kind: 's3-outage'; downMs: number };

export interface FaultContext {
  stack: ChaosStack;
  pool: WorkerPool;
  /** Date.now() when the run started. */
  startedAt: number;
  /** The clean run's duration: fault points are fractions of it. */
  cleanMs: number;
  random: () => number;
  /** Settles when the run ends. */
  done: Promise<unknown>;
  log: (line: string) => void;
}

/** Waits until `at` (ms after the start) or the run's end; true if the run is still going. */
async function until(ctx: FaultContext, at: number, ended: { value: boolean }): Promise<boolean> {
  const wait = ctx.startedAt + at - Date.now();
  if (wait > 0) await Promise.race([sleep(wait), ctx.done.catch(() => undefined)]);
  return !ended.value;
}

/** Injects the fault; returns what was done and when, one line per injection. */
export async function injectFault(fault: Fault, ctx: FaultContext): Promise<string[]> {
  const ended = { value: false };
  void ctx.done.finally(() => (ended.value = true)).catch(() => undefined);
  const elapsed = () => `${((Date.now() - ctx.startedAt) / 1000).toFixed(1)} s`;
  const point = (lo: number, hi: number) => Math.round(ctx.cleanMs * (lo + (hi - lo) * ctx.random()));
  const done: string[] = [];
  switch (fault.kind) {
    case 'kill-worker': {
      const points = Array.from({ length: fault.times }, () => point(0.1, 0.8)).sort((a, b) => a - b);
      for (const at of points) {
        if (!(await until(ctx, at, ended))) break;
        await ctx.pool.ready();
        if (ended.value) break;
        ctx.pool.kill();
        done.push(`SIGKILL worker at ${elapsed()}`);
        ctx.log(done.at(-1)!);
      }
      break;
    }
    case 'restart-temporal': {
      if (!(await until(ctx, point(0.2, 0.6), ended))) break;
      await ctx.stack.stopTemporal();
      const stoppedAt = elapsed();
      await sleep(fault.downMs);
      await ctx.stack.up();
      done.push(`Temporal stopped at ${stoppedAt}, up at ${elapsed()}`);
      ctx.log(done.at(-1)!);
      break;
    }
    case 's3-outage': {
      if (!(await until(ctx, point(0.1, 0.4), ended))) break;
      await ctx.stack.stopS3();
      const stoppedAt = elapsed();
      await sleep(fault.downMs);
      await ctx.stack.up();
      done.push(`S3 stopped at ${stoppedAt} for ${Math.round(fault.downMs / 1000)} s, up at ${elapsed()}`);
      ctx.log(done.at(-1)!);
      break;
    }
  }
  if (done.length === 0) done.push('none: the run ended first');
  return done;
}
