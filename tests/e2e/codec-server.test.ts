/**
 * The codec server makes encrypted history readable where operators look, and only there: a
 * stack of its own (Temporal dev server with --ui-codec-endpoint, versitygw, and the codec server
 * started by `stackUp` as a `carepipe codec-server` process), a workflow started with encrypted
 * input, then the server's raw history (ciphertext), the codec protocol by hand, `temporal
 * workflow show --codec-endpoint`, and headless Chromium on the Web UI (plaintext), plus the
 * refusals: foreign origins, wrong methods and routes, bad bodies, unknown keys, missing tokens.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { AesGcmPayloadCodec, dataConverter } from '../../core/codec.js';
import { createCodecServer } from '../../core/codec-server.js';
import { type KeyRing, REPO_ROOT } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { codecEndpoint, codecServerHealthy, stackDown, stackUp } from '../../infra/stack.js';
import { TOOLS, ensureTool } from '../../infra/tools.js';
import { withChromium } from '../helpers/chromium.js';

const run = promisify(execFile);
const KEY = randomBytes(32);
const RING: KeyRing = { activeId: 'k1', keys: new Map([['k1', KEY]]), source: 'the test' };
const MARKER = `codec-marker-${randomBytes(4).toString('hex')}`;
const INPUT = { marker: MARKER, lake: 's3://codec-test-lake', note: 'decoded' };
const TOOLS_DIR = join(REPO_ROOT, process.env.CAREPIPE_TOOLS_DIR ?? '.tools');

let stateDir: string;
let ports: { temporal: number; ui: number; s3: number; codec: number };
let endpoint: string;
let connection: Connection;
let client: Client;
let workflowId: string;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

test.before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'carepipe-codec-stack-'));
  ports = { temporal: await freePort(), ui: await freePort(), s3: await freePort(), codec: await freePort() };
  // What the spawned `carepipe codec-server` reads: its keys, its port and the Web UI's origin.
  Object.assign(process.env, {
    CAREPIPE_CODEC_KEYS: `k1:${KEY.toString('base64')}`,
    CAREPIPE_PSEUDONYM_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    CAREPIPE_STATE_DIR: stateDir,
    CAREPIPE_STACK_UI_PORT: String(ports.ui),
    CAREPIPE_CODEC_SERVER_PORT: String(ports.codec),
    CAREPIPE_LOG_LEVEL: 'info',
    // Where the codec server writes its decode audit records (audit/codec/...).
    CAREPIPE_LAKE: `file://${join(stateDir, 'lake')}`,
  });
  const codec = { host: '127.0.0.1', port: ports.codec };
  endpoint = codecEndpoint(codec);
  await stackUp({ stateDir, toolsDir: TOOLS_DIR, ports: { temporal: ports.temporal, ui: ports.ui, s3: ports.s3 }, persistent: false, codecServer: codec });
  connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  client = new Client({ connection, dataConverter: dataConverter(RING) });
  // No worker serves this queue: the run stays open with its encrypted input in history.
  const handle = await client.workflow.start('codecProbe', {
    taskQueue: 'codec-probe',
    workflowId: `codec-probe-${randomBytes(4).toString('hex')}`,
    args: [INPUT],
  });
  workflowId = handle.workflowId;
});

test.after.always(async () => {
  await client?.workflow
    .getHandle(workflowId)
    .terminate()
    .catch(() => undefined);
  await connection?.close();
  if (stateDir) {
    await stackDown({ stateDir });
    rmSync(stateDir, { recursive: true, force: true });
  }
});

/** The start event's input as the server stores it. */
async function storedInput() {
  const history = await client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
  return history.history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
}

const b64 = (u: Uint8Array | null | undefined) => Buffer.from(u ?? new Uint8Array()).toString('base64');

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

test.serial('the server stores ciphertext; POST /decode gives back the input, as the Web UI and the CLI would ask', async (t) => {
  const payloads = await storedInput();
  t.is(payloads.length, 1);
  t.is(Buffer.from(payloads[0]!.metadata!.encoding!).toString(), 'binary/encrypted');
  t.false(Buffer.from(payloads[0]!.data!).includes(MARKER), 'the marker is not in the stored bytes');
  const wire = {
    payloads: payloads.map((p) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) })),
  };
  for (const path of ['/decode', '/default/decode']) {
    const r = await post(path, wire, { 'X-Namespace': 'default' });
    t.is(r.status, 200, path);
    const [decoded] = r.json.payloads as { metadata: Record<string, string>; data: string }[];
    t.is(Buffer.from(decoded!.metadata.encoding!, 'base64').toString(), 'json/plain');
    t.deepEqual(JSON.parse(Buffer.from(decoded!.data, 'base64').toString()), INPUT);
  }
  // /encode seals with the active key; /decode opens it again.
  const plain = { payloads: [{ metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from(JSON.stringify(INPUT))) }] };
  const sealed = await post('/encode', plain);
  t.is(sealed.status, 200);
  const sealedPayload = (sealed.json.payloads as { metadata: Record<string, string> }[])[0]!;
  t.is(Buffer.from(sealedPayload.metadata['encryption-key-id']!, 'base64').toString(), 'k1');
  t.deepEqual((await post('/decode', sealed.json)).json, plain);
  // Each decode left one audit record (loopback, no auth configured: the caller is anonymous), never the input.
  const auditDir = join(stateDir, 'lake', 'audit', 'codec');
  const records = readdirSync(auditDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => readFileSync(join(auditDir, f), 'utf8'));
  t.true(records.length >= 3, `${records.length} audit records`);
  t.false(records.some((r) => r.includes(MARKER)));
  t.like(JSON.parse(records[0]!) as Record<string, unknown>, { event: 'decode', subject: 'anonymous', payloads: 1 });
});

test.serial('temporal workflow show reads the input through --codec-endpoint, and only ciphertext without it', async (t) => {
  const temporal = ensureTool(TOOLS.temporal, TOOLS_DIR);
  const startInput = async (...extra: string[]) => {
    const { stdout } = await run(temporal, [
      'workflow',
      'show',
      '--address',
      `127.0.0.1:${ports.temporal}`,
      '--workflow-id',
      workflowId,
      '--output',
      'json',
      ...extra,
    ]);
    const events = (
      JSON.parse(stdout) as {
        events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { metadata: { encoding: string }; data: string }[] } } }[];
      }
    ).events;
    const [payload] = events[0]!.workflowExecutionStartedEventAttributes!.input.payloads;
    return { encoding: Buffer.from(payload!.metadata.encoding, 'base64').toString(), data: Buffer.from(payload!.data, 'base64') };
  };
  const decoded = await startInput('--codec-endpoint', endpoint);
  t.is(decoded.encoding, 'json/plain');
  t.deepEqual(JSON.parse(decoded.data.toString()), INPUT);
  const raw = await startInput();
  t.is(raw.encoding, 'binary/encrypted');
  t.false(raw.data.includes(MARKER));
});

test.serial('the Web UI, started with --ui-codec-endpoint, shows the decoded input in headless Chromium', async (t) => {
  await withChromium(async (page) => {
    const url = `http://localhost:${ports.ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;
    // An open run's page keeps polling (never network-idle): wait for the text itself.
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const shown = await page
      .getByText(MARKER)
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 })
      .then(
        () => true,
        () => false,
      );
    if (!shown) await page.screenshot({ path: join(REPO_ROOT, '.test-artifacts', 'codec-web-ui-failed.png'), fullPage: true }).catch(() => undefined);
    t.true(shown, `the marker is on ${url}`);
  });
});

test.serial("browsers get CORS for the Web UI's origin only; wrong routes, methods, bodies and keys are refused with a reason", async (t) => {
  const ui = `http://localhost:${ports.ui}`;
  const preflight = await fetch(`${endpoint}/decode`, {
    method: 'OPTIONS',
    headers: { Origin: ui, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
  });
  t.is(preflight.status, 204);
  t.is(preflight.headers.get('access-control-allow-origin'), ui);
  t.regex(preflight.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
  const foreign = await fetch(`${endpoint}/decode`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
  t.is(foreign.headers.get('access-control-allow-origin'), null);
  t.is((await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' })).status, 403);

  t.is((await fetch(`${endpoint}/decode`)).status, 405);
  t.is((await post('/decrypt', { payloads: [] })).status, 404);
  const notJson = await post('/decode', '{payloads');
  t.is(notJson.status, 400);
  t.regex(String(notJson.json.error), /not JSON/);
  t.regex(String((await post('/decode', { items: [] })).json.error), /no "payloads" array/);
  t.regex(String((await post('/decode', { payloads: [{ data: '%%%' }] })).json.error), /payloads\[0\]\.data is not base64/);
  const otherKey = new AesGcmPayloadCodec({ activeId: 'k9', keys: new Map([['k9', randomBytes(32)]]), source: 'elsewhere' });
  const [foreignSealed] = await otherKey.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(INPUT)) }]);
  const unknown = await post('/decode', {
    payloads: [{ metadata: Object.fromEntries(Object.entries(foreignSealed!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(foreignSealed!.data) }],
  });
  t.is(unknown.status, 400);
  t.regex(String(unknown.json.error), /key "k9"/);
  t.false(JSON.stringify(unknown.json).includes(MARKER));
});

test.serial('with a token configured, a request without the bearer token is refused', async (t) => {
  const token = randomBytes(16).toString('hex');
  const server = createCodecServer({ codec: new AesGcmPayloadCodec(RING), origins: [], token, logger: createLogger('error') });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decode`;
  try {
    const ask = (auth?: string) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) }, body: '{"payloads":[]}' });
    t.is((await ask()).status, 401);
    t.is((await ask('Bearer wrong-token-of-some-length')).status, 401);
    t.is((await ask(`Bearer ${token}`)).status, 200);
  } finally {
    server.close();
  }
});

test.serial('stack down stops the codec server it started', async (t) => {
  t.true(await codecServerHealthy(endpoint));
  const stopped = await stackDown({ stateDir });
  t.true(stopped.includes('codec-server'), `stopped: ${stopped.join(', ')}`);
  t.false(await codecServerHealthy(endpoint));
});
