/**
 * `carepipe serve` as a stack process, the way the codec server is one: started detached with its
 * pid and log under the state folder (`serve.pid`, `serve.log`), reused when a healthy one already
 * answers on the port, and stopped by `stackDown` (`carepipe stack down`), so the demo never leaves
 * it orphaned.
 */
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../core/config.js';
import { isRunning, recordedPid, startDetached, stopProcess, waitUntil } from './processes.js';

export const SERVE_PROCESS = 'serve';
const NODE_BINARY = basename(process.execPath);

export interface ServeProcessOptions {
  stateDir: string;
  host: string;
  port: number;
  lake: string;
  models: string[];
  log?: (line: string) => void;
}

export const serveUrl = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts `carepipe serve` (unless one is ready on the port) and waits until its champions are loaded. */
export async function upServe(opts: ServeProcessOptions): Promise<{ url: string; pid: number | undefined; startedNow: boolean }> {
  const url = serveUrl(opts.host, opts.port);
  const pid = recordedPid(opts.stateDir, SERVE_PROCESS, NODE_BINARY);
  if (await ready(url)) return { url, pid, startedNow: false };
  if (pid !== undefined) await stopProcess(opts.stateDir, SERVE_PROCESS, NODE_BINARY); // ours but not ready: restart
  opts.log?.(`starting carepipe serve on ${url}`);
  const args = [join(REPO_ROOT, 'bin', 'carepipe.js'), 'serve', '--host', opts.host, '--port', String(opts.port), '--lake', opts.lake];
  const proc = startDetached(opts.stateDir, SERVE_PROCESS, process.execPath, opts.models.length > 0 ? [...args, '--models', opts.models.join(',')] : args);
  await waitUntil(
    `carepipe serve on ${url} (log: ${join(opts.stateDir, `${SERVE_PROCESS}.log`)})`,
    () => ready(url),
    90_000,
    () => isRunning(proc.pid),
  );
  return { url, pid: proc.pid, startedNow: true };
}

export function stopServe(stateDir: string): Promise<boolean> {
  return stopProcess(stateDir, SERVE_PROCESS, NODE_BINARY);
}

/** An example feature record (missing features are imputed as in training) and the curl that scores it. */
export const EXAMPLE_FEATURES = {
  age: 74,
  los_days: 6,
  prior_inpatient_365d: 2,
  prior_emergency_180d: 1,
  charlson_index: 4,
  sex: 'F',
  payer: 'medicare',
  discharge_disposition: 'snf',
  lab_sodium_last: 133,
  lab_creatinine_last: 1.6,
};

export function predictCurl(url: string, model: string): { command: string; path: string; body: string } {
  const path = `/v1/models/${model}:predict`;
  const body = JSON.stringify({ instances: [{ features: EXAMPLE_FEATURES }] });
  return { command: `curl -s -X POST '${url}${path}' -H 'content-type: application/json' -d '${body}'`, path, body };
}
