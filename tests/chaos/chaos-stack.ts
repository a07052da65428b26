/**
 * The chaos suite's own stack: a Temporal dev server with persistent SQLite history (so a restart
 * keeps every run) and versitygw logging every request (so PUTs can be counted per key), on
 * ports of its own and with state in a folder of its own, never the test stack's: the suite
 * stops and restarts these servers. Workers are `carepipe worker` processes, so a fault can
 * kill one with SIGKILL as an OOM killer or a lost node would.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, type StackPorts } from '../../core/config.js';
import { stopProcess } from '../../infra/processes.js';
import { stackAddresses, stackDown, stackUp } from '../../infra/stack.js';
import { TOOLS } from '../../infra/tools.js';
import { type BackgroundCli, cliEnv, startCli } from '../helpers/cli.js';

/** A free loopback port, from the kernel's ephemeral range unless `base` names one of a range. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Ports from CAREPIPE_CHAOS_PORTS (`temporal,ui,s3`) or free ones. */
export async function chaosPorts(): Promise<StackPorts> {
  const fixed = process.env.CAREPIPE_CHAOS_PORTS?.split(',').map(Number);
  if (fixed?.length === 3 && fixed.every((p) => Number.isInteger(p) && p > 0)) return { temporal: fixed[0]!, ui: fixed[1]!, s3: fixed[2]! };
  return { temporal: await freePort(), ui: await freePort(), s3: await freePort() };
}

export class ChaosStack {
  readonly accessLog: string;
  private constructor(
    readonly stateDir: string,
    readonly ports: StackPorts,
    private readonly log: (line: string) => void,
  ) {
    this.accessLog = join(stateDir, 's3-access.log');
  }

  /** A fresh stack in `stateDir` (whatever was there is removed first). */
  static async start(stateDir: string, ports: StackPorts, log: (line: string) => void): Promise<ChaosStack> {
    await stackDown({ stateDir });
    rmSync(stateDir, { recursive: true, force: true });
    const stack = new ChaosStack(stateDir, ports, log);
    await stack.up();
    return stack;
  }

  get addresses() {
    return stackAddresses(this.ports);
  }

  /** Starts whatever is not running (both servers are reused when healthy). */
  async up(): Promise<void> {
    const toolsDir = join(REPO_ROOT, '.tools');
    await stackUp({ stateDir: this.stateDir, toolsDir, ports: this.ports, persistent: true, s3AccessLog: this.accessLog, log: this.log });
  }

  async stopS3(): Promise<void> {
    await stopProcess(this.stateDir, TOOLS.versitygw.name, TOOLS.versitygw.name, 5_000);
  }

  async stopTemporal(): Promise<void> {
    await stopProcess(this.stateDir, TOOLS.temporal.name, TOOLS.temporal.name, 5_000);
  }

  async down(): Promise<void> {
    await stackDown({ stateDir: this.stateDir });
  }

  /** PUTs (single or multipart) per object key of `bucket`, from versitygw's access log. */
  /** PUTs per key of a lake (its keys relative to its prefix in the bucket). */
  putsPerKey(bucket: string, prefix = ''): Map<string, number> {
    const out = new Map<string, number>();
    if (!existsSync(this.accessLog)) return out;
    // `- <bucket> [<time>] <ip> - <request id> s3_<Operation> <key> ...`
    const re = /^\S+ (\S+) \[[^\]]+\] \S+ \S+ \S+ s3_(PutObject|CompleteMultipartUpload) (\S+) /;
    for (const line of readFileSync(this.accessLog, 'utf8').split('\n')) {
      const m = re.exec(line);
      if (!m || m[1] !== bucket) continue;
      const key = prefix === '' ? m[3]! : m[3]!.startsWith(`${prefix}/`) ? m[3]!.slice(prefix.length + 1) : null;
      if (key !== null) out.set(key, (out.get(key) ?? 0) + 1);
    }
    return out;
  }
}

/**
 * A pool of one `carepipe worker` process kept alive as an orchestrator would: when it dies
 * (killed by a fault) a new one starts. `kill()` sends SIGKILL: no graceful shutdown, no
 * heartbeat of goodbye, in-flight activities lost mid-write.
 */
export class WorkerPool {
  private current: BackgroundCli | undefined;
  private stopping = false;
  private supervised: Promise<void> = Promise.resolve();
  kills = 0;
  starts = 0;

  constructor(private readonly vars: Record<string, string>) {}

  start(): void {
    this.supervised = this.supervise();
  }

  private async supervise(): Promise<void> {
    while (!this.stopping) {
      this.current = startCli(['worker'], cliEnv(this.vars));
      this.starts++;
      await this.current.exited;
      if (!this.stopping) await sleep(1000);
    }
  }

  /** Waits until the running worker has logged that it polls. */
  async ready(): Promise<void> {
    while (!this.current || !/"msg":"worker started"/.test(this.current.output().stderr)) await sleep(100);
  }

  /** SIGKILL to the running worker; the pool starts another. */
  kill(): void {
    if (this.current?.child.exitCode !== null) return;
    this.current.child.kill('SIGKILL');
    this.kills++;
  }

  /** The running worker's stderr (for failure messages). */
  output(): string {
    return this.current?.output().stderr ?? '';
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.current?.child.kill('SIGTERM');
    await this.supervised;
  }
}
