/**
 * A Temporal codec server: the Web UI and `temporal workflow show --codec-endpoint` send it the
 * encrypted payloads of a history and get them back readable (Temporal's remote codec protocol:
 * POST /decode and /encode, also under a namespace segment as /<namespace>/decode; bodies are
 * proto3 JSON, `{"payloads":[{"metadata":{"encoding":"<base64>"},"data":"<base64>"}]}`).
 *
 * The keys never leave this process and the Temporal server never sees them. What it decodes is
 * what carepipe puts in payloads (lake URIs, manifests, counts, metrics: never a row), but it is
 * still the one door to plaintext history, so: browsers get CORS only for the listed Web UI
 * origins; callers are authenticated (codec-server-auth.ts: the user's own token, which the Web
 * UI forwards, checked against the OIDC issuer, and the `decrypt-history` permission); it will not
 * listen off loopback without that; it serves HTTPS when given a certificate; `/encode` can be
 * switched off; and each decode is one audit record (who, which workflow when known, how many
 * payloads, their key ids and ciphertext digests; never a payload) written before the answer:
 * a decode that cannot be audited is refused.
 */
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { KEY_ID_METADATA } from './codec.js';
import { type CodecAuth, HttpRefusal as BadRequest, authenticate } from './codec-server-auth.js';
import type { AuditSink } from './identity/audit-log.js';
import type { Logger } from './log.js';

/** Temporal's limit is 2 MiB a payload and 4 MiB a request; base64 and JSON add about a third. */
export const MAX_BODY_BYTES = 8 << 20;

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser (the Web UI's), exactly as the browser sends them. */
  origins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>` (a shared token). */
  token?: string;
  /** Per-user tokens (core/identity/token.ts); callers need `decrypt-history`. */
  auth?: Omit<CodecAuth, 'token'>;
  /** Serve POST /encode (default true). */
  encode?: boolean;
  /** Where each decode's audit record goes; without one, decodes are logged only (tests, never `carepipe codec-server`). */
  audit?: AuditSink;
  /** PEM certificate chain and key: HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  logger: Logger;
}

/** The workflow a decode is for, when the caller says: an `X-Workflow-Id` header, or the Web UI page in `Referer`. */
export function workflowOf(req: IncomingMessage): string | null {
  const header = req.headers['x-workflow-id'];
  if (typeof header === 'string' && header.length > 0 && header.length <= 1000) return header;
  const page = /\/namespaces\/[^/]+\/workflows\/([^/?#]+)/.exec(req.headers.referer ?? '');
  if (!page) return null;
  try {
    return decodeURIComponent(page[1]!);
  } catch {
    return null;
  }
}

/** Ciphertext digests tie an audit record to the history events it read, without holding anything readable. */
function digest(p: Payload): string {
  return createHash('sha256')
    .update(p.data ?? new Uint8Array())
    .digest('hex')
    .slice(0, 16);
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(p: unknown, i: number): Payload {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new BadRequest(400, `payloads[${i}] is not an object`);
  const { metadata, data } = p as JsonPayload;
  const bytes = (v: unknown, where: string) => {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new BadRequest(400, `payloads[${i}].${where} is not base64`);
    return new Uint8Array(Buffer.from(v, 'base64'));
  };
  const out: Payload = {};
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new BadRequest(400, `payloads[${i}].metadata is not an object`);
    out.metadata = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, bytes(v, `metadata.${k}`)]));
  }
  if (data !== undefined) out.data = bytes(data, 'data');
  return out;
}

function toJson(p: Payload): JsonPayload {
  const out: JsonPayload = {};
  if (p.metadata) out.metadata = Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  if (p.data) out.data = Buffer.from(p.data).toString('base64');
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parsePayloads(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequest(400, 'the request body is not JSON');
  }
  const list = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(list)) throw new BadRequest(400, 'the request body has no "payloads" array');
  return list.map(fromJson);
}

const ROUTE = /^\/(?:([^/]+)\/)?(encode|decode)$/;

export function createCodecServer(options: CodecServerOptions): Server {
  const origins = new Set(options.origins);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (path === '/health' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      return;
    }
    const route = ROUTE.exec(path);
    if (!route) throw new BadRequest(404, `no route ${path}: POST /decode or /encode`);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new BadRequest(405, `${req.method ?? 'this method'} is not allowed: POST`);
    }
    if (origin !== undefined && !origins.has(origin)) throw new BadRequest(403, `origin ${origin} is not allowed`);
    const action = route[2] as 'encode' | 'decode';
    if (action === 'encode' && options.encode === false)
      throw new BadRequest(404, '/encode is switched off on this codec server (CAREPIPE_CODEC_SERVER_ENCODE=false)');
    const caller = await authenticate({ ...options.auth, ...(options.token !== undefined ? { token: options.token } : {}) }, req.headers.authorization);
    const payloads = parsePayloads(await readBody(req));
    let result: Payload[];
    try {
      result = action === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
    } catch (err) {
      // The codec's own messages name key ids, never contents; a failed GCM tag says only "unable to authenticate".
      throw new BadRequest(400, `cannot ${action}: ${(err as Error).message}`);
    }
    const namespace = route[1] ?? (req.headers['x-namespace'] as string | undefined) ?? '';
    const workflowId = workflowOf(req);
    if (action === 'decode' && options.audit) {
      await options.audit.append({
        at: new Date().toISOString(),
        event: 'decode',
        subject: caller.subject,
        issuer: caller.issuer,
        roles: caller.roles,
        namespace,
        workflowId,
        payloads: payloads.length,
        keyIds: [...new Set(payloads.map((p) => text(p.metadata?.[KEY_ID_METADATA])).filter(Boolean))],
        encodings: [...new Set(payloads.map((p) => text(p.metadata?.[METADATA_ENCODING_KEY])))],
        digests: payloads.map(digest),
        origin: origin ?? null,
      });
    }
    options.logger.info('codec request', { action, namespace, origin: origin ?? '', payloads: payloads.length, subject: caller.subject, workflowId });
    res.setHeader('Content-Type', 'application/json');
    res.writeHead(200).end(JSON.stringify({ payloads: result.map(toJson) }));
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof BadRequest ? err.status : 500;
      const message = err instanceof BadRequest ? err.message : 'internal error';
      if (status >= 500) options.logger.error('codec request failed', { error: (err as Error).message });
      else options.logger.warn('codec request refused', { status, reason: message, origin: req.headers.origin ?? '' });
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: message }));
    });
  };
  return options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, listener) : createServer(listener);
}
