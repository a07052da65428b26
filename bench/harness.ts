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

/**
 * Ports of the benchmark's own stack: apart from the demo's (7233...) and the tests' (17233...);
 * CAREPIPE_BENCH_TEMPORAL_PORT, _UI_PORT and _S3_PORT move it, so two benches can run side by side.
 */
export const BENCH_PORTS = {
  temporal: portFromEnv('CAREPIPE_BENCH_TEMPORAL_PORT', 26233),
  ui: portFromEnv('CAREPIPE_BENCH_UI_PORT', 26234),
  s3: portFromEnv('CAREPIPE_BENCH_S3_PORT', 26070),
};
// One state folder per stack, so a second bench on other ports does not wipe the first's.
const stateDir = join(REPO_ROOT, '.test-artifacts', BENCH_PORTS.temporal === 26233 ? 'bench-stack' : `bench-stack-${BENCH_PORTS.temporal}`);

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) throw new Error(`${name} must be a port number from 1 to 65535, got "${raw}"`);
  return Number(raw);
}

export async function withBenchStack<T>(fn: (addresses: ReturnType<typeof stackAddresses>) => Promise<T>): Promise<T> {
  rmSync(stateDir, { recursive: true, force: true });
  await stackUp({
    stateDir,
    toolsDir: join(REPO_ROOT, '.tools'),
    ports: BENCH_PORTS,
    persistent: false,
    log: (l) => process.stderr.write(`[bench stack] ${l}\n`),
  });
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
  /** Everything the worker wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/** Starts `carepipe worker <args>`; `nodeArgs` go to node itself (e.g. `--cpu-prof`). */
export async function startWorker(env: NodeJS.ProcessEnv, args: string[], nodeArgs: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'bin', 'carepipe.js'), 'worker', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
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
    stderr: () => stderr,
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
