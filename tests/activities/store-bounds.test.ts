/**
 * Store requests are bounded (issue 16, item 2): against a blackholed S3 endpoint (a TCP server
 * that accepts connections and never answers) an attempt fails with TransientError by the
 * client's own timeout instead of hanging until Temporal's; cancelling the activity aborts its
 * in-flight request (the server sees the connection closed); and store requests heartbeat the
 * running activity, which is how bookkeeping activities (listing, planning, manifests) heartbeat.
 * The blackhole listens on an ephemeral loopback port, so parallel runs never collide.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LOCAL_S3_CREDENTIALS, parseLakeUri, type S3Settings } from '../../core/config.js';
import { TransientError } from '../../core/errors.js';
import { openStore } from '../../activities/io/open-store.js';
import { s3ErrorCode } from '../../activities/io/store-errors.js';
import { storeRequestCounts } from '../../activities/io/store-requests.js';

interface Blackhole {
  server: Server;
  endpoint: string;
  /** Sockets accepted so far, and a promise per closed one. */
  sockets: Socket[];
  closed: Promise<void>[];
  /** Resolves when the n-th connection arrives. */
  connection(n: number): Promise<Socket>;
}

/** Accepts every connection, reads and discards what arrives, never answers. */
async function blackhole(): Promise<Blackhole> {
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  const waiters: { n: number; resolve: (s: Socket) => void }[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    for (const w of waiters.filter((w) => w.n === sockets.length)) w.resolve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const connection = (n: number) => (sockets.length >= n ? Promise.resolve(sockets[n - 1]!) : new Promise<Socket>((resolve) => waiters.push({ n, resolve })));
  return { server, endpoint: `http://127.0.0.1:${port}`, sockets, closed, connection };
}

function settings(endpoint: string, requestTimeoutMs: number): S3Settings {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    multipartThresholdBytes: 5 * 1024 * 1024,
    sse: { mode: 'none' },
    localDevelopment: true,
    conditionalWrites: 'per-request',
    connectTimeoutMs: 1000,
    requestTimeoutMs,
  };
}

test('a request to a blackholed S3 endpoint fails with TransientError by its own request timeout instead of hanging', async (t) => {
  const hole = await blackhole();
  t.teardown(() => hole.server.close());
  const store = openStore(parseLakeUri('s3://lake/p'), settings(hole.endpoint, 300));
  t.teardown(() => store.close());
  const err = await t.throwsAsync(store.get('raw/a.parquet'), { instanceOf: TransientError });
  // The client's own timeout (name TimeoutError, code ETIMEDOUT), not an answer from the server.
  t.is((err?.cause as Error).name, 'TimeoutError');
  t.is(s3ErrorCode(err?.cause).code, 'ETIMEDOUT');
  t.regex(err?.message ?? '', /get on s3:\/\/lake\/p\/raw\/a\.parquet at http:\/\/127\.0\.0\.1:\d+ failed \(ETIMEDOUT/);
  t.true(hole.sockets.length >= 1, 'the request did reach the endpoint');
  // The timed-out attempts' connections are closed by the client, not left open.
  await Promise.all(hole.closed);
  t.true(hole.sockets.every((s) => s.destroyed));
});

test('cancelling the activity aborts its in-flight S3 request, which would otherwise wait out a ten-minute timeout', async (t) => {
  const hole = await blackhole();
  t.teardown(() => hole.server.close());
  const store = openStore(parseLakeUri('s3://lake'), settings(hole.endpoint, 600_000));
  t.teardown(() => store.close());
  const env = new MockActivityEnvironment({ activityType: 'listRawFiles' });
  const running = env.run(async () => {
    for await (const o of store.list('raw/')) return o.key;
    return undefined;
  });
  const socket = await hole.connection(1);
  env.cancel();
  const err = await t.throwsAsync(running);
  t.is(err?.name, 'AbortError', `the request was aborted (${err?.name}: ${err?.message})`);
  await hole.closed[0];
  t.true(socket.destroyed, 'the client closed the connection it was waiting on');
  t.is(hole.sockets.length, 1, 'no request was retried after the cancellation');
});

test('every store request heartbeats the running activity, so a bookkeeping activity of many requests heartbeats', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'store-bounds-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  for (const d of ['2025-01-01', '2025-01-02', '2025-01-03']) {
    await mkdir(join(root, 'raw', 'patients', `ingest_date=${d}`), { recursive: true });
    await writeFile(join(root, 'raw', 'patients', `ingest_date=${d}`, 'a.parquet'), 'x');
  }
  const store = openStore(parseLakeUri(`file://${root}`), settings('http://127.0.0.1:1', 1000));
  const env = new MockActivityEnvironment({ activityType: 'writeIngestManifests' });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  const before = storeRequestCounts();
  const levels = await env.run(async () => {
    const days = await store.listLevel('raw/patients/');
    for (const p of days.prefixes) await store.head(`${p}a.parquet`);
    return days.prefixes.length;
  });
  const after = storeRequestCounts();
  t.is(levels, 3);
  // One heartbeat per request (FileStore counts a listing page per folder read).
  const requests = (op: string) => (after[`file:${op}`] ?? 0) - (before[`file:${op}`] ?? 0);
  t.is(beats.length, requests('list') + requests('head'));
  t.deepEqual(beats[0], { step: 'store', op: 'list' });
  t.deepEqual(
    beats.filter((b) => (b as { op: string }).op === 'head'),
    [1, 2, 3].map(() => ({ step: 'store', op: 'head' })),
  );
});
