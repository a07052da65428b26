/**
 * The local stack: a Temporal dev server (SQLite history under the state folder, Web UI),
 * versitygw (posix backend under the state folder) and, when asked, carepipe's codec server, to
 * which the Web UI is pointed so it shows payloads decrypted. `stackUp` is idempotent: a healthy
 * service on the port is reused, whoever started it; `stackDown` stops only what carepipe started.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { LOCAL_S3_CREDENTIALS, REPO_ROOT, type StackPorts } from '../core/config.js';
import { SEARCH_ATTRIBUTE_KINDS } from '../schemas/names.js';
import { isRunning, recordedPid, startDetached, stopProcess, waitUntil } from './processes.js';
import { SERVE_PROCESS, stopServe } from './serve-process.js';
import { TOOLS, ensureTool } from './tools.js';

export interface StackOptions {
  stateDir: string;
  toolsDir: string;
  ports: StackPorts;
  /** Keep Temporal history in a SQLite file so it survives a restart (the demo); tests use memory. */
  persistent: boolean;
  /** Run carepipe's codec server here (with the keys the environment gives) and point the Web UI at it. */
  codecServer?: { host: string; port: number };
  /** Have versitygw log every request to this file (the chaos suite counts PUTs per key in it). */
  s3AccessLog?: string;
  log?: (line: string) => void;
}

export interface ServiceStatus {
  healthy: boolean;
  /** Set when carepipe started (or had started) the process. */
  pid: number | undefined;
  startedNow: boolean;
}

export interface StackStatus {
  temporal: ServiceStatus & { address: string; uiUrl: string };
  s3: ServiceStatus & { endpoint: string; dataDir: string };
  codecServer?: ServiceStatus & { endpoint: string };
}

const CODEC_SERVER = 'codec-server';
/** The codec server is carepipe itself under this Node binary; pid checks match its name. */
const NODE_BINARY = basename(process.execPath);

const START_TIMEOUT_MS = 90_000;

export function stackAddresses(ports: StackPorts) {
  return {
    temporalAddress: `127.0.0.1:${ports.temporal}`,
    uiUrl: `http://localhost:${ports.ui}`,
    s3Endpoint: `http://127.0.0.1:${ports.s3}`,
  };
}

export async function temporalHealthy(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    const res = await connection.healthService.check({});
    return Number(res.status) === 1; // SERVING
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function s3Healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status > 0; // any HTTP answer (403 without credentials) means the gateway is up
  } catch {
    return false;
  }
}

interface ServiceSpec {
  /** Names the pid and log files under the state folder. */
  name: string;
  binary: string;
  /** For messages: what and where, e.g. "versitygw on http://127.0.0.1:7070". */
  what: string;
  /** The line logged when it starts. */
  starting: string;
  healthy: () => Promise<boolean>;
  /** Prepares what the process needs and returns its arguments (only when it is started). */
  args: () => string[];
}

/**
 * A healthy service on its port is reused, whoever started it; one carepipe started that is
 * unhealthy is restarted; otherwise the process is started detached and waited on until healthy.
 */
async function ensureService(opts: StackOptions, s: ServiceSpec): Promise<ServiceStatus> {
  const pid = recordedPid(opts.stateDir, s.name, s.binary);
  if (await s.healthy()) return { healthy: true, pid, startedNow: false };
  if (pid !== undefined) await stopProcess(opts.stateDir, s.name, s.binary); // ours but unhealthy: restart
  opts.log?.(s.starting);
  const proc = startDetached(opts.stateDir, s.name, s.binary, s.args());
  await waitUntil(`${s.what} (log: ${join(opts.stateDir, `${s.name}.log`)})`, s.healthy, START_TIMEOUT_MS, () => isRunning(proc.pid));
  return { healthy: true, pid: proc.pid, startedNow: true };
}

async function upTemporal(opts: StackOptions): Promise<StackStatus['temporal']> {
  const { temporalAddress, uiUrl } = stackAddresses(opts.ports);
  const status = await ensureService(opts, {
    name: 'temporal',
    binary: ensureTool(TOOLS.temporal, opts.toolsDir, opts.log),
    what: `Temporal dev server on ${temporalAddress}`,
    starting: `starting Temporal dev server on ${temporalAddress} (Web UI ${uiUrl})`,
    healthy: () => temporalHealthy(temporalAddress),
    args: () => [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(opts.ports.temporal),
      '--ui-port',
      String(opts.ports.ui),
      ...Object.entries(SEARCH_ATTRIBUTE_KINDS).flatMap(([key, kind]) => ['--search-attribute', `${key}=${kind}`]),
      ...(opts.persistent ? ['--db-filename', join(opts.stateDir, 'temporal.db')] : []),
      ...(opts.codecServer ? ['--ui-codec-endpoint', codecEndpoint(opts.codecServer)] : []),
    ],
  });
  return { address: temporalAddress, uiUrl, ...status };
}

async function upS3(opts: StackOptions): Promise<StackStatus['s3']> {
  const { s3Endpoint } = stackAddresses(opts.ports);
  const dataDir = join(opts.stateDir, 's3-data');
  const status = await ensureService(opts, {
    name: 'versitygw',
    binary: ensureTool(TOOLS.versitygw, opts.toolsDir, opts.log),
    what: `versitygw on ${s3Endpoint}`,
    starting: `starting versitygw on ${s3Endpoint} (data: ${dataDir})`,
    healthy: () => s3Healthy(s3Endpoint),
    args: () => {
      // Metadata in a sidecar folder: works on filesystems without user xattrs (tmpfs, some overlays).
      // Its path must not even string-prefix the data folder's, or versitygw 1.7.0 refuses to start.
      const metaDir = join(opts.stateDir, 'meta-s3');
      mkdirSync(dataDir, { recursive: true });
      mkdirSync(metaDir, { recursive: true });
      return [
        '--access',
        LOCAL_S3_CREDENTIALS.accessKeyId,
        '--secret',
        LOCAL_S3_CREDENTIALS.secretAccessKey,
        // Keep-alive is off by default in versitygw: every S3 request would pay a new TCP connection.
        '--port',
        `127.0.0.1:${opts.ports.s3}`,
        '--quiet',
        '--keep-alive',
        ...(opts.s3AccessLog ? ['--access-log', opts.s3AccessLog] : []),
        'posix',
        '--sidecar',
        metaDir,
        dataDir,
      ];
    },
  });
  return { endpoint: s3Endpoint, dataDir, ...status };
}

export function codecEndpoint(c: { host: string; port: number }): string {
  return `http://${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}`;
}

export async function codecServerHealthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function upCodecServer(opts: StackOptions, c: { host: string; port: number }): Promise<NonNullable<StackStatus['codecServer']>> {
  const endpoint = codecEndpoint(c);
  const status = await ensureService(opts, {
    // startDetached runs the Node binary itself; the pid check matches its name.
    name: CODEC_SERVER,
    binary: process.execPath,
    what: `codec server on ${endpoint}`,
    starting: `starting the codec server on ${endpoint}`,
    healthy: () => codecServerHealthy(endpoint),
    args: () => [join(REPO_ROOT, 'bin', 'carepipe.js'), 'codec-server', '--host', c.host, '--port', String(c.port)],
  });
  return { endpoint, ...status };
}

export async function stackUp(opts: StackOptions): Promise<StackStatus> {
  mkdirSync(opts.stateDir, { recursive: true });
  const codec = opts.codecServer;
  const [temporal, s3, codecServer] = await Promise.allSettled([upTemporal(opts), upS3(opts), codec ? upCodecServer(opts, codec) : Promise.resolve(undefined)]);
  if (temporal.status === 'rejected' || s3.status === 'rejected' || codecServer.status === 'rejected') {
    // Leave nothing half-up: stop whatever this call started, then report the first failure.
    await stackDown(opts);
    throw ([temporal, s3, codecServer].find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
  }
  return { temporal: temporal.value, s3: s3.value, ...(codecServer.value ? { codecServer: codecServer.value } : {}) };
}

/** Stops what carepipe started under this state folder; returns the names stopped. */
export async function stackDown(opts: Pick<StackOptions, 'stateDir'>): Promise<string[]> {
  const stopped: string[] = [];
  for (const tool of [TOOLS.temporal, TOOLS.versitygw]) {
    // Never builds a tool just to stop it: the recorded pid is checked against the binary's name.
    if (await stopProcess(opts.stateDir, tool.name, tool.name)) stopped.push(tool.name);
  }
  if (await stopProcess(opts.stateDir, CODEC_SERVER, NODE_BINARY)) stopped.push(CODEC_SERVER);
  if (await stopServe(opts.stateDir)) stopped.push(SERVE_PROCESS); // the demo's `carepipe serve`
  return stopped;
}

export async function stackStatus(opts: Pick<StackOptions, 'stateDir' | 'toolsDir' | 'ports' | 'codecServer'>): Promise<StackStatus> {
  const { temporalAddress, uiUrl, s3Endpoint } = stackAddresses(opts.ports);
  const pidOf = (tool: { name: string }) => recordedPid(opts.stateDir, tool.name, tool.name);
  const codec = opts.codecServer ? codecEndpoint(opts.codecServer) : undefined;
  return {
    temporal: { address: temporalAddress, uiUrl, healthy: await temporalHealthy(temporalAddress), pid: pidOf(TOOLS.temporal), startedNow: false },
    s3: { endpoint: s3Endpoint, dataDir: join(opts.stateDir, 's3-data'), healthy: await s3Healthy(s3Endpoint), pid: pidOf(TOOLS.versitygw), startedNow: false },
    ...(codec
      ? {
          codecServer: {
            endpoint: codec,
            healthy: await codecServerHealthy(codec),
            pid: recordedPid(opts.stateDir, CODEC_SERVER, NODE_BINARY),
            startedNow: false,
          },
        }
      : {}),
  };
}
