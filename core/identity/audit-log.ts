/**
 * Audit records of identity-bearing events that are not registry moves (today: each decode by the
 * codec server). One object a record, one JSON line, under `audit/<stream>/date=YYYY-MM-DD/`: an
 * object store cannot append, and a key per record lets concurrent servers write without
 * coordination. A small seam on purpose: the hash-chained audit module (activities/registry/audit.ts)
 * can take these records over by replacing `lakeAuditSink` with a sink that appends to the chain.
 * Records carry who, what and how many, never a payload or its plaintext.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../../activities/io/object-store.js';

export interface AuditSink {
  /** Resolves once the record is stored; throws if it cannot be (callers then refuse the action). */
  append(record: Record<string, unknown> & { at: string }): Promise<void>;
}

export function auditKey(stream: string, at: string): string {
  const stamp = at.replace(/[-:]/g, '').replace('.', '');
  return `audit/${stream}/date=${at.slice(0, 10)}/${stamp}-${randomBytes(6).toString('hex')}.jsonl`;
}

export function lakeAuditSink(store: ObjectStore, stream = 'codec'): AuditSink {
  return {
    async append(record) {
      await store.put(auditKey(stream, record.at), JSON.stringify(record) + '\n', { ifNoneMatch: '*', contentType: 'application/x-ndjson' });
    },
  };
}
