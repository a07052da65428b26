/**
 * Background service processes with pid files, so `stack up` is idempotent and `stack down` stops
 * exactly what carepipe started (it checks the pid still runs the same binary before signalling).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceProcess {
  name: string;
  pid: number;
}

function pidFile(stateDir: string, name: string): string {
  return join(stateDir, `${name}.pid`);
}

export function isRunning(pid: number, binary?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!binary) return true;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0')[0]?.endsWith(basename(binary)) ?? false;
  } catch {
    return true; // no /proc: trust the signal probe
  }
}

/** The pid carepipe recorded for this service, if that process still runs the binary. */
export function recordedPid(stateDir: string, name: string, binary: string): number | undefined {
  const file = pidFile(stateDir, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid, binary)) return pid;
  rmSync(file, { force: true });
  return undefined;
}

/** Starts a detached process logging to <stateDir>/<name>.log and records its pid. */
export function startDetached(stateDir: string, name: string, binary: string, args: string[]): ServiceProcess {
  mkdirSync(stateDir, { recursive: true });
  const logFd = openSync(join(stateDir, `${name}.log`), 'a');
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', logFd, logFd] });
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    child.unref();
    writeFileSync(pidFile(stateDir, name), `${child.pid}\n`);
    return { name, pid: child.pid };
  } finally {
    closeSync(logFd);
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stopProcess(stateDir: string, name: string, binary: string, graceMs = 15_000): Promise<boolean> {
  const pid = recordedPid(stateDir, name, binary);
  if (pid === undefined) return false;
  // Detached children lead their own process group: signal the group so nothing is orphaned.
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  if (isRunning(pid)) signal('SIGKILL');
  while (isRunning(pid)) await sleep(50);
  rmSync(pidFile(stateDir, name), { force: true });
  return true;
}

/** Polls `probe` until it resolves true, or throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (alive && !alive()) throw new Error(`${what}: the process exited during start-up`);
    if (Date.now() > deadline) throw new Error(`${what}: not healthy after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(250);
  }
}
