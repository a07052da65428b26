/**
 * Benchmark plumbing: a private local stack, worker processes started through the `carepipe`
 * command, peak memory read from /proc, and a table printer. Benchmarks compare against a
 * reference measured in the same run on the same machine; they never assert wall-clock limits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../core/config.js';
import { stackAddresses, stackDown, stackUp } from '../infra/stack.js';

/** Ports of the benchmark's own stack: apart from the demo's (7233...) and the tests' (17233...). */
export const BENCH_PORTS = { temporal: 26233, ui: 26234, s3: 26070 };
const stateDir = join(REPO_ROOT, '.test-artifacts', 'bench-stack');

export async function withBenchStack<T>(fn: (addresses: ReturnType<typeof stackAddresses>) => Promise<T>): Promise<T> {
  rmSync(stateDir, { recursive: true, force: true });
  await stackUp({ stateDir, toolsDir: join(REPO_ROOT, '.tools'), ports: BENCH_PORTS, persistent: false, log: (l) => process.stderr.write(`[bench stack] ${l}\n`) });
  const onSignal = () => void stackDown({ stateDir }).finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(stackAddresses(BENCH_PORTS));
  } finally {
    await stackDown({ stateDir });
  }
}

/** Peak resident set (VmHWM) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return Number.NaN; // the process is gone
  }
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export interface WorkerProcess {
  child: ChildProcess;
  peakRssMiB(): number;
  stop(): Promise<void>;
}

export async function startWorker(env: NodeJS.ProcessEnv, args: string[]): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'carepipe.js'), 'worker', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  while (!stderr.includes('"msg":"worker started"')) {
    if (child.exitCode !== null) throw new Error(`worker exited: ${stderr}`);
    await sleep(50);
  }
  let peak = 0;
  // VmHWM is the process's own high-water mark; sampled last before it stops.
  return {
    child,
    peakRssMiB: () => (child.exitCode === null ? (peak = Math.max(peak, peakRssMiB(child.pid!))) : peak),
    stop: async () => {
      peak = Math.max(peak, peakRssMiB(child.pid!));
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

/** Runs a Python reference script (benchmarks only, never the product) and parses its JSON output. */
export function pythonReference<T>(script: string, args: string[]): T {
  const r = spawnSync('python3', [join(REPO_ROOT, 'bench', script), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python3 ${script} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padStart(widths[i]!)).join('  ');
  process.stdout.write(`\n${title}\n${line(cells[0]!)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${cells.slice(1).map(line).join('\n')}\n`);
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) || Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(Math.abs(n) >= 10 ? 1 : 3);
}
