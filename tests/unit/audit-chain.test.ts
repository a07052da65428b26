/**
 * The audit chain on a file:// lake: what tampering each check catches (an edited, removed,
 * forged or truncated-at-the-end record, an edited or deleted head), that an append refuses a
 * broken stream non-retryably naming the record, and that a legacy SHA-256 prefix stays readable.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { auditKeyRing, legacyRecordHash } from '../../activities/audit/chain.js';
import { appendAudit, auditHeadKey, bindAuditKeys, readAuditStream, verifyAuditStream } from '../../activities/audit/log.js';
import { FileStore } from '../../activities/io/file-store.js';
import { AuditChainError, classify } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { testKeyRing } from '../helpers/pipeline-env.js';

const ring = testKeyRing('audit-1');

async function streamOf(n: number, stream = 'registry-m') {
  const root = mkdtempSync(join(tmpdir(), 'carepipe-audit-'));
  const store = bindAuditKeys(new FileStore({ root }), { ring });
  for (let i = 0; i < n; i++) await appendAudit(store, stream, { eventId: `e${i}`, actor: `wf-${i}`, event: { type: 'gate', version: `v${i}` } });
  const file = (seq: number) => join(root, lake.audit(stream, seq));
  return { root, store, stream, file, head: join(root, auditHeadKey(stream)) };
}

const edit = (path: string, change: (doc: Record<string, unknown>) => void) => {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  change(doc);
  writeFileSync(path, JSON.stringify(doc));
};

test('an intact stream verifies, and appending the same event id again stores it once', async (t) => {
  const { store, stream } = await streamOf(3);
  const again = await appendAudit(store, stream, { eventId: 'e1', actor: 'wf-1', event: { type: 'gate', version: 'v1' } });
  t.is(again.seq, 1);
  t.deepEqual(await verifyAuditStream(store, stream), { stream, ok: true, records: 3, legacy: 0 });
  t.deepEqual(
    (await readAuditStream(store, stream)).map((r) => [r.seq, r.actor, r.keyId]),
    [
      [0, 'wf-0', 'audit-1'],
      [1, 'wf-1', 'audit-1'],
      [2, 'wf-2', 'audit-1'],
    ],
  );
});

test('an edited record is caught by its MAC even when its hash is recomputed without the key', async (t) => {
  const { store, stream, file } = await streamOf(3);
  edit(file(1), (d) => {
    d.event = { type: 'gate', version: 'v-evil' };
    d.hash = legacyRecordHash(d as never); // what an attacker without the key can compute
  });
  t.like(await verifyAuditStream(store, stream), { ok: false, seq: 1, problem: 'MAC does not match the content (edited, or forged without the key)' });
});

test('a removed record in the middle is a gap', async (t) => {
  const { store, stream, file } = await streamOf(3);
  rmSync(file(1));
  t.like(await verifyAuditStream(store, stream), { ok: false, seq: 2, problem: 'expected sequence number 1 (a record is missing)' });
});

test('records removed from the end are caught by the signed head checkpoint', async (t) => {
  const { store, stream, file } = await streamOf(3);
  rmSync(file(2));
  t.like(await verifyAuditStream(store, stream), {
    ok: false,
    seq: 'head',
    problem: 'the head names record 2 but the stream ends at 1: records were removed from the end',
  });
});

test('a head moved back, or deleted, is caught', async (t) => {
  const moved = await streamOf(3);
  rmSync(moved.file(2));
  edit(moved.head, (d) => {
    d.seq = 1;
  });
  t.like(await verifyAuditStream(moved.store, moved.stream), { ok: false, seq: 'head', problem: 'the head checkpoint MAC does not match (edited)' });
  const deleted = await streamOf(2);
  rmSync(deleted.head);
  t.like(await verifyAuditStream(deleted.store, deleted.stream), { ok: false, seq: 'head', problem: 'the head checkpoint is missing' });
});

test('a record signed with another key (a forger with a key of their own) is refused', async (t) => {
  const { store, stream, root } = await streamOf(2);
  const forger = bindAuditKeys(new FileStore({ root }), { ring: testKeyRing('audit-1-forged') });
  // The forger's store sees the genuine records as broken, so it cannot even append.
  const err = await t.throwsAsync(appendAudit(forger, stream, { eventId: 'x', actor: 'x', event: {} }), { instanceOf: AuditChainError });
  t.regex(err.message, /audit stream "registry-m" is broken at record 0: signed with audit key "audit-1", which is not in the key ring/);
  t.like(await verifyAuditStream(store, stream), { ok: true, records: 2 });
});

test('an append to a broken stream fails non-retryably naming the stream and the record, and writes nothing', async (t) => {
  const { store, stream, file, root } = await streamOf(3);
  edit(file(1), (d) => {
    d.actor = 'someone-else';
  });
  const err = await t.throwsAsync(appendAudit(store, stream, { eventId: 'e3', actor: 'wf-3', event: { type: 'gate' } }), { instanceOf: AuditChainError });
  t.is(
    err.message,
    `file://${root}/audit/registry-m/000000000001.json: audit stream "registry-m" is broken at record 1: MAC does not match the content (edited, or forged without the key). Nothing more is appended until it is examined (carepipe audit verify).`,
  );
  t.deepEqual(classify(err), { type: 'AuditChainError', retryable: false });
  t.is((await readAuditStream(store, stream)).length, 3);
});

test('a legacy SHA-256 prefix is accepted, then vouched for by the first keyed record and the head', async (t) => {
  const { store, stream, file } = await streamOf(0);
  const legacy = { seq: 0, at: '2026-11-01T00:00:00.000Z', eventId: 'old', event: { type: 'gate' }, previousHash: null };
  mkdirSync(dirname(file(0)), { recursive: true });
  writeFileSync(file(0), JSON.stringify({ ...legacy, hash: legacyRecordHash(legacy) }));
  t.deepEqual(await verifyAuditStream(store, stream), { stream, ok: true, records: 1, legacy: 1 });
  await appendAudit(store, stream, { eventId: 'new', actor: 'wf', event: { type: 'rollback' } });
  t.deepEqual(await verifyAuditStream(store, stream), { stream, ok: true, records: 2, legacy: 1 });
  edit(file(0), (d) => {
    d.event = { type: 'force' };
    d.hash = legacyRecordHash(d as never);
  });
  t.like(await verifyAuditStream(store, stream), { ok: false, seq: 1, problem: 'previous hash does not match the record before it' });
});

test('without a configured audit ring the key is derived from the pseudonym key, apart from it, and stable', (t) => {
  const keys = { codec: testKeyRing('c'), pseudonym: testKeyRing('p') };
  const a = auditKeyRing(keys);
  t.is(a.activeId, 'p~audit');
  t.notDeepEqual(a.keys.get('p~audit'), keys.pseudonym.keys.get('p'));
  t.deepEqual(auditKeyRing(keys).keys.get('p~audit'), a.keys.get('p~audit'));
  t.is(auditKeyRing({ ...keys, audit: ring }), ring);
});
