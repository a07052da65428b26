/**
 * The codec server's door, over real HTTP(S) on this machine (no Temporal needed): per-user tokens
 * from the issuer with decrypt-history (401 without a valid one, 403 without the permission),
 * the shared token, `/encode` switched off, one audit record per decode in the lake's audit zone
 * (who, which workflow, how many; never a payload), no decode when the record cannot be written,
 * HTTPS with the configured certificate, and the refusal to listen off loopback without auth.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { FileStore } from '../../activities/io/file-store.js';
import { AesGcmPayloadCodec } from '../../core/codec.js';
import { createCodecServer } from '../../core/codec-server.js';
import { checkExposure } from '../../core/codec-server-auth.js';
import type { KeyRing } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { type AuditSink, lakeAuditSink } from '../../core/identity/audit-log.js';
import { identitySettings } from '../../core/identity/settings.js';
import { createIdentityVerifier } from '../../core/identity/token.js';
import { createLogger } from '../../core/log.js';
import { createTestIssuer, type TestIssuer } from '../helpers/oidc.js';

// This helper's own port range (36100-36199): never another runner's.
const PORT = { jwt: 36110, failing: 36111, tls: 36112 };
const ring: KeyRing = { activeId: 'k1', keys: new Map([['k1', createHash('sha256').update('codec server auth').digest()]]), source: 'test' };
const codec = new AesGcmPayloadCodec(ring);
const SECRET = { note: 'the plaintext that must never reach an audit record' };
let issuer: TestIssuer;
let lakeRoot: string;
const servers: Server[] = [];

async function listen(server: Server, port: number): Promise<void> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
}

async function encryptedBody(): Promise<string> {
  const [p] = await codec.encode([defaultPayloadConverter.toPayload(SECRET)]);
  return JSON.stringify({
    payloads: [
      {
        metadata: {
          encoding: Buffer.from(p!.metadata!.encoding!).toString('base64'),
          'encryption-key-id': Buffer.from(p!.metadata!['encryption-key-id']!).toString('base64'),
        },
        data: Buffer.from(p!.data!).toString('base64'),
      },
    ],
  });
}

test.before(async () => {
  issuer = await createTestIssuer();
  lakeRoot = mkdtempSync(join(tmpdir(), 'carepipe-codec-audit-'));
  const verifier = createIdentityVerifier(identitySettings(issuer.env));
  await listen(
    createCodecServer({
      codec,
      origins: [],
      auth: { verifier },
      token: 'shared-token-of-some-length',
      encode: false,
      audit: lakeAuditSink(new FileStore({ root: lakeRoot })),
      logger: createLogger('error'),
    }),
    PORT.jwt,
  );
  const failing: AuditSink = { append: () => Promise.reject(new Error('the audit zone is unreachable')) };
  await listen(createCodecServer({ codec, origins: [], auth: { verifier }, audit: failing, logger: createLogger('error') }), PORT.failing);
});

test.after.always(() => {
  for (const s of servers) s.close();
});

const post = (port: number, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

function auditRecords(): Record<string, unknown>[] {
  const dir = join(lakeRoot, 'audit', 'codec');
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
  return files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

test.serial(
  'a user token with decrypt-history decodes, and the decode is one audit record naming who, which workflow and how many, never the payload',
  async (t) => {
    const before = auditRecords().length;
    const token = await issuer.token('u-ops-7', ['ops']);
    const res = await post(PORT.jwt, '/default/decode', await encryptedBody(), {
      Authorization: `Bearer ${token}`,
      'X-Workflow-Id': 'retrain/m/20261203T000000Z',
    });
    t.is(res.status, 200);
    const [p] = ((await res.json()) as { payloads: { data: string }[] }).payloads;
    t.deepEqual(JSON.parse(Buffer.from(p!.data, 'base64').toString()), SECRET);
    const records = auditRecords();
    t.is(records.length, before + 1);
    const r = records.find((x) => x.subject === 'u-ops-7')!;
    t.like(r, {
      event: 'decode',
      subject: 'u-ops-7',
      roles: ['ops'],
      namespace: 'default',
      workflowId: 'retrain/m/20261203T000000Z',
      payloads: 1,
      keyIds: ['k1'],
    });
    t.is((r.digests as string[]).length, 1);
    t.false(JSON.stringify(r).includes('plaintext'), 'no payload in the record');
  },
);

test.serial('the workflow comes from the Web UI page the request was made from, when no header names it', async (t) => {
  const token = await issuer.token('u-compliance', ['compliance-officer']);
  const res = await post(PORT.jwt, '/decode', await encryptedBody(), {
    Authorization: `Bearer ${token}`,
    Referer: 'https://temporal.example.com/namespaces/carepipe/workflows/ingest%2F20261203T000000Z/run-1/history',
  });
  t.is(res.status, 200);
  t.like(
    auditRecords().find((x) => x.subject === 'u-compliance'),
    { workflowId: 'ingest/20261203T000000Z', roles: ['compliance-officer'] },
  );
});

test.serial(
  'a token without decrypt-history is refused 403 naming role and permission; a missing, foreign or expired token 401; nothing is audited',
  async (t) => {
    const before = auditRecords().length;
    const body = await encryptedBody();
    const ds = await post(PORT.jwt, '/decode', body, { Authorization: `Bearer ${await issuer.token('u-ds', ['data-scientist'])}` });
    t.is(ds.status, 403);
    t.is(((await ds.json()) as { error: string }).error, 'u-ds (role data-scientist) may not decrypt-history: that needs the role ops or compliance-officer');
    t.is((await post(PORT.jwt, '/decode', body)).status, 401);
    t.is((await post(PORT.jwt, '/decode', body, { Authorization: `Bearer ${await issuer.token('u', ['ops'], { expiresIn: '-1h' })}` })).status, 401);
    t.is((await post(PORT.jwt, '/decode', body, { Authorization: `Bearer ${await issuer.token('u', ['ops'], { audience: 'other' })}` })).status, 401);
    t.is(auditRecords().length, before);
  },
);

test.serial('the shared token still decodes, and is audited as the shared token', async (t) => {
  const res = await post(PORT.jwt, '/decode', await encryptedBody(), { Authorization: 'Bearer shared-token-of-some-length' });
  t.is(res.status, 200);
  t.truthy(auditRecords().find((x) => x.subject === 'shared-token'));
});

test.serial('/encode switched off answers 404, even to an authorised user', async (t) => {
  const res = await post(PORT.jwt, '/encode', await encryptedBody(), { Authorization: `Bearer ${await issuer.token('u-ops', ['ops'])}` });
  t.is(res.status, 404);
  t.regex(((await res.json()) as { error: string }).error, /\/encode is switched off/);
});

test('a decode whose audit record cannot be written is refused, and nothing decrypted is returned', async (t) => {
  const res = await post(PORT.failing, '/decode', await encryptedBody(), { Authorization: `Bearer ${await issuer.token('u-ops', ['ops'])}` });
  t.is(res.status, 500);
  t.false((await res.text()).includes('plaintext'));
});

test('with a certificate configured it serves HTTPS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-codec-tls-'));
  // A throwaway self-signed certificate for 127.0.0.1 (openssl: the test's one tool beyond Node).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  await listen(createCodecServer({ codec, origins: [], tls: { cert, key: readFileSync(join(dir, 'key.pem')) }, logger: createLogger('error') }), PORT.tls);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: PORT.tls, path: '/health', ca: cert }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.is(status, 200);
  // Plain HTTP on the TLS port gets no answer from the codec.
  await t.throwsAsync(fetch(`http://127.0.0.1:${PORT.tls}/health`));
});

test('it will not listen off loopback without authentication, and warns about tokens over plain HTTP', (t) => {
  t.throws(() => checkExposure('0.0.0.0', {}, false), { instanceOf: ConfigError, message: /will not listen on 0\.0\.0\.0 without authentication/ });
  t.is(checkExposure('127.0.0.1', {}, false), undefined);
  t.is(checkExposure('::1', {}, false), undefined);
  t.regex(checkExposure('10.0.0.5', { token: 'shared-token-of-some-length' }, false)!, /plain HTTP/);
  t.is(checkExposure('10.0.0.5', { token: 'shared-token-of-some-length' }, true), undefined);
});
