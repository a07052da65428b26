/**
 * Reads a worker's Prometheus endpoint at the end of a stage: carepipe's store requests by store
 * and operation, and activities completed by task queue (which process did the feature build).
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port nothing listens on now, for a worker's metrics endpoint. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface WorkerCounts {
  /** `<store>:<op>` -> requests, e.g. `s3:get`. */
  requests: Record<string, number>;
  /** Task queue -> activity attempts completed there. */
  activitiesByQueue: Record<string, number>;
}

function labelsOf(set: string): Record<string, string> {
  return Object.fromEntries([...set.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

export function parseCounts(text: string): WorkerCounts {
  const counts: WorkerCounts = { requests: {}, activitiesByQueue: {} };
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = labelsOf(m[2] ?? '');
    const value = Number(m[3]);
    if (m[1] === 'carepipe_store_requests_total' && labels.store && labels.op) {
      const key = `${labels.store}:${labels.op}`;
      counts.requests[key] = (counts.requests[key] ?? 0) + value;
    } else if (m[1] === 'carepipe_activity_duration_milliseconds_count' && labels.task_queue && labels.outcome === 'completed') {
      counts.activitiesByQueue[labels.task_queue] = (counts.activitiesByQueue[labels.task_queue] ?? 0) + value;
    }
  }
  return counts;
}

/** Scrapes until two reads a second apart agree: the runtime exports on its own schedule. */
export async function scrapeSettled(port: number): Promise<WorkerCounts> {
  let last = '';
  for (let i = 0; i < 15; i++) {
    const text = JSON.stringify(parseCounts(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()));
    if (text === last) break;
    last = text;
    await sleep(1000);
  }
  return JSON.parse(last) as WorkerCounts;
}

export function addCounts(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}
