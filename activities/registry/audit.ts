/**
 * The audit trail: append-only, hash-chained JSON records under audit/<stream>/. Each record
 * names the hash of the one before it, and is created with a conditional create, so two writers
 * cannot both take the same sequence number and a gap or an edit breaks the chain visibly.
 */
import { PreconditionFailedError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { readJson, sha256Hex } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';

export interface AuditRecord {
  seq: number;
  at: string;
  /** An idempotency key: the same event appended twice is stored once. */
  eventId: string;
  event: Record<string, unknown>;
  previousHash: string | null;
  hash: string;
}

const MAX_ATTEMPTS = 20;

export async function readAuditStream(store: ObjectStore, stream: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const obj of store.list(`audit/${stream}/`)) {
    const record = await readJson<AuditRecord>(store, obj.key);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.seq - b.seq);
}

export function recordHash(r: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(String(r.seq), r.at, r.eventId, JSON.stringify(r.event), r.previousHash ?? '');
}

/** Verifies the chain: sequence without gaps, each hash correct and linked to the previous one. */
export function verifyAuditChain(records: AuditRecord[]): { ok: true } | { ok: false; seq: number; problem: string } {
  let previous: string | null = null;
  for (const [i, r] of records.entries()) {
    if (r.seq !== i) return { ok: false, seq: r.seq, problem: `expected sequence number ${i}` };
    if (r.previousHash !== previous) return { ok: false, seq: r.seq, problem: 'previous hash does not match' };
    const { hash, ...rest } = r;
    if (recordHash(rest) !== hash) return { ok: false, seq: r.seq, problem: 'hash does not match the content' };
    previous = hash;
  }
  return { ok: true };
}

export async function appendAudit(store: ObjectStore, stream: string, eventId: string, event: Record<string, unknown>): Promise<AuditRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const records = await readAuditStream(store, stream);
    const existing = records.find((r) => r.eventId === eventId);
    if (existing) return existing;
    const last = records[records.length - 1];
    const body = { seq: records.length, at: new Date().toISOString(), eventId, event, previousHash: last?.hash ?? null };
    const record: AuditRecord = { ...body, hash: recordHash(body) };
    try {
      await store.put(lake.audit(stream, record.seq), JSON.stringify(record, null, 2) + '\n', { ifNoneMatch: '*', contentType: 'application/json' });
      return record;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err; // another writer took this number: read again
    }
  }
  throw new PreconditionFailedError(`audit/${stream}: could not append after ${MAX_ATTEMPTS} attempts of contention`);
}
