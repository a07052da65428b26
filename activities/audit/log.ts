/**
 * The audit trail in the lake: append-only streams of HMAC-chained JSON records,
 * `audit/<stream>/<seq>.json`, each created by a conditional create (two writers cannot both take
 * a sequence number), and a signed head checkpoint, `audit/<stream>/_head.json`, moved after each
 * append. Every append verifies the whole stream first: a broken chain fails with AuditChainError
 * (non-retryable) naming the stream and record, so nothing is appended after tampering.
 *
 * The key ring is bound to the store object (`bindAuditKeys`, done by cli/deps.ts for every store
 * it opens), so callers write `appendAudit(store, stream, record)` and never handle keys.
 */
import { AuditChainError, ConfigError, InvalidInputError, PreconditionFailedError } from '../../core/errors.js';
import type { KeyRing } from '../../core/config.js';
import { lake } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';
import { type AuditHead, type AuditRecord, type ChainVerdict, GENESIS, sealHead, sealRecord, verifyChain } from './chain.js';

export type { AuditHead, AuditRecord, ChainVerdict } from './chain.js';

export interface AuditBinding {
  ring: KeyRing;
  /** Days records stay locked (S3 Object Lock, compliance mode) where the store supports it. */
  retainDays?: number;
}

export interface NewAuditRecord {
  /** An idempotency key: the same event appended twice (a retried activity) is stored once. */
  eventId: string;
  /** Who acted: a person's identity when known (identity module), else the acting workflow id. */
  actor: string;
  /** What happened. Never PHI: ids, versions, counts, reasons. */
  event: Record<string, unknown>;
}

const bindings = new WeakMap<ObjectStore, AuditBinding>();
const MAX_ATTEMPTS = 20;
const STREAM_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

export function bindAuditKeys<S extends ObjectStore>(store: S, binding: AuditBinding): S {
  bindings.set(store, binding);
  return store;
}

function bindingOf(store: ObjectStore): AuditBinding {
  const b = bindings.get(store);
  if (!b) throw new ConfigError(`${store.uri}: no audit key ring is bound to this store (open it through createDeps, or call bindAuditKeys).`);
  return b;
}

export const auditHeadKey = (stream: string): string => `audit/${stream}/_head.json`;

async function readJsonOr<T>(store: ObjectStore, key: string): Promise<{ doc: T; etag: string } | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  const text = new TextDecoder().decode(await store.get(key));
  try {
    return { doc: JSON.parse(text) as T, etag: info.etag };
  } catch (cause) {
    throw new AuditChainError(`${store.uri}/${key}: the audit object is not valid JSON (edited or truncated).`, { cause });
  }
}

/** A stream's records in sequence order (the head checkpoint is not a record). */
export async function readAuditStream(store: ObjectStore, stream: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const obj of store.list(`audit/${stream}/`)) {
    if (obj.key === auditHeadKey(stream)) continue;
    const r = await readJsonOr<AuditRecord>(store, obj.key);
    if (r) records.push(r.doc);
  }
  return records.sort((a, b) => a.seq - b.seq);
}

export async function readAuditHead(store: ObjectStore, stream: string): Promise<{ doc: AuditHead; etag: string } | undefined> {
  return readJsonOr<AuditHead>(store, auditHeadKey(stream));
}

/** The streams under audit/. */
export async function listAuditStreams(store: ObjectStore): Promise<string[]> {
  const level = await store.listLevel('audit/');
  return level.prefixes.map((p) => p.slice('audit/'.length).replace(/\/$/, '')).sort();
}

/** Verifies one stream with the store's bound ring. */
export async function verifyAuditStream(store: ObjectStore, stream: string): Promise<ChainVerdict & { stream: string }> {
  const { ring } = bindingOf(store);
  const [records, head] = await Promise.all([readAuditStream(store, stream), readAuditHead(store, stream)]);
  return { stream, ...verifyChain(ring, stream, records, head?.doc) };
}

function chainError(store: ObjectStore, stream: string, v: Exclude<ChainVerdict, { ok: true }>): AuditChainError {
  const where = v.seq === 'head' ? auditHeadKey(stream) : lake.audit(stream, v.seq);
  return new AuditChainError(
    `${store.uri}/${where}: audit stream "${stream}" is broken at ${v.seq === 'head' ? 'its head checkpoint' : `record ${v.seq}`}: ${v.problem}. Nothing more is appended until it is examined (carepipe audit verify).`,
  );
}

/** Moves the head to `last` unless a later writer already moved it further. */
async function advanceHead(store: ObjectStore, ring: KeyRing, stream: string, last: { seq: number; hash: string }): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await readAuditHead(store, stream);
    if (current && current.doc.seq >= last.seq) return;
    const head = sealHead(ring, stream, last, new Date().toISOString());
    try {
      await store.put(auditHeadKey(stream), JSON.stringify(head, null, 2) + '\n', {
        contentType: 'application/json',
        ...(current ? { ifMatch: current.etag } : { ifNoneMatch: '*' }),
      });
      return;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err; // another writer moved it: look again
    }
  }
  throw new PreconditionFailedError(`audit/${stream}: could not move the head after ${MAX_ATTEMPTS} attempts of contention`);
}

/**
 * Appends a record (or returns the stored one with the same eventId), after verifying the whole
 * stream. Throws AuditChainError when the stream is broken.
 */
export async function appendAudit(store: ObjectStore, stream: string, record: NewAuditRecord): Promise<AuditRecord> {
  if (!STREAM_RE.test(stream)) throw new InvalidInputError(`audit: stream name "${stream}" must be 1-128 characters of letters, digits, '.', '_' and '-'.`);
  if (!record.actor) throw new InvalidInputError(`audit/${stream}: record ${record.eventId} has no actor.`);
  const { ring, retainDays } = bindingOf(store);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [records, head] = await Promise.all([readAuditStream(store, stream), readAuditHead(store, stream)]);
    const verdict = verifyChain(ring, stream, records, head?.doc);
    if (!verdict.ok) throw chainError(store, stream, verdict);
    const existing = records.find((r) => r.eventId === record.eventId);
    if (existing) {
      await advanceHead(store, ring, stream, records[records.length - 1]!); // a retry after the record, before the head
      return existing;
    }
    const last = records[records.length - 1];
    // The head exists before the record it will cover: a head missing beside records is then always tampering.
    if (!head) await advanceHead(store, ring, stream, last ?? GENESIS);
    const body = {
      seq: records.length,
      at: new Date().toISOString(),
      eventId: record.eventId,
      actor: record.actor,
      event: record.event,
      previousHash: last?.hash ?? null,
    };
    const sealed = sealRecord(ring, body);
    try {
      await store.put(lake.audit(stream, sealed.seq), JSON.stringify(sealed, null, 2) + '\n', {
        ifNoneMatch: '*',
        contentType: 'application/json',
        ...(retainDays ? { retainUntil: new Date(Date.now() + retainDays * 86_400_000) } : {}),
      });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err; // another writer took this number: read again
      continue;
    }
    await advanceHead(store, ring, stream, sealed);
    return sealed;
  }
  throw new PreconditionFailedError(`audit/${stream}: could not append after ${MAX_ATTEMPTS} attempts of contention`);
}
