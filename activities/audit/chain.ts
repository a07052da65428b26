/**
 * The audit chain's arithmetic, without I/O: each record's `hash` is an HMAC-SHA-256, under a key
 * of the audit key ring (never stored in the lake), of its content and the hash of the record
 * before it; the stream's head checkpoint (`_head.json`) is an HMAC of the last sequence number
 * and hash (written before a stream's first record, then after each). Anyone who can write the lake but not read the key ring can neither recompute a
 * record after editing it nor move the head back after dropping the last records.
 *
 * Records written before the chain was keyed (`keyId` absent, plain SHA-256) are accepted only as
 * a prefix: the first keyed record names the last of them in `previousHash`, so the keyed part and
 * the head vouch for them from then on.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyRing, Keys } from '../../core/config.js';

export interface AuditRecord {
  seq: number;
  at: string;
  /** An idempotency key: the same event appended twice is stored once. */
  eventId: string;
  /** Who acted: a person's identity when one is known, else the workflow id that acted. */
  actor?: string;
  event: Record<string, unknown>;
  previousHash: string | null;
  /** The audit key that made `hash`; absent on legacy (unkeyed, SHA-256) records. */
  keyId?: string;
  hash: string;
}

/** The signed checkpoint of a stream: its last record when written. */
export interface AuditHead {
  stream: string;
  seq: number;
  hash: string;
  at: string;
  keyId: string;
  mac: string;
}

export type ChainProblem = { seq: number | 'head'; problem: string };
export type ChainVerdict = { ok: true; records: number; legacy: number } | ({ ok: false } & ChainProblem);

/** What every record's MAC covers, in a fixed order (JSON, so no field can bleed into the next). */
const recordContent = (r: Omit<AuditRecord, 'hash' | 'keyId'>): string =>
  JSON.stringify([r.seq, r.at, r.eventId, r.actor ?? null, r.event, r.previousHash ?? null]);

function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The legacy unkeyed hash (records before the chain was keyed). */
export function legacyRecordHash(r: Omit<AuditRecord, 'hash' | 'keyId'>): string {
  const h = createHash('sha256');
  for (const part of [String(r.seq), r.at, r.eventId, JSON.stringify(r.event), r.previousHash ?? '']) h.update(part).update('\0');
  return h.digest('hex');
}

export function recordMac(ring: KeyRing, keyId: string, r: Omit<AuditRecord, 'hash' | 'keyId'>): string | undefined {
  const key = ring.keys.get(keyId);
  return key ? hmacHex(key, `record\n${recordContent(r)}`) : undefined;
}

export function headMac(ring: KeyRing, keyId: string, h: Omit<AuditHead, 'mac' | 'keyId'>): string | undefined {
  const key = ring.keys.get(keyId);
  return key ? hmacHex(key, `head\n${JSON.stringify([h.stream, h.seq, h.hash, h.at])}`) : undefined;
}

export function sealRecord(ring: KeyRing, body: Omit<AuditRecord, 'hash' | 'keyId'>): AuditRecord {
  return { ...body, keyId: ring.activeId, hash: recordMac(ring, ring.activeId, body)! };
}

/** The head of a stream with no record yet: written before record 0, so a head exists whenever a record does. */
export const GENESIS = { seq: -1, hash: '' } as const;

export function sealHead(ring: KeyRing, stream: string, last: { seq: number; hash: string }, at: string): AuditHead {
  const body = { stream, seq: last.seq, hash: last.hash, at };
  return { ...body, keyId: ring.activeId, mac: headMac(ring, ring.activeId, body)! };
}

const same = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Verifies a stream: sequence without gaps, each record's MAC (or legacy hash, before the first
 * keyed record only) and link, and the head: it must verify, and name a record that exists with
 * that hash. Records after the head are allowed (a writer stopped between its record and the
 * head); a head beyond the last record means records were removed from the end.
 */
export function verifyChain(ring: KeyRing, stream: string, records: readonly AuditRecord[], head: AuditHead | undefined): ChainVerdict {
  let previous: string | null = null;
  let legacy = 0;
  let keyed = false;
  for (const [i, r] of records.entries()) {
    if (r.seq !== i) return { ok: false, seq: r.seq, problem: `expected sequence number ${i} (a record is missing)` };
    if (r.previousHash !== previous) return { ok: false, seq: r.seq, problem: 'previous hash does not match the record before it' };
    const { hash, keyId, ...rest } = r;
    if (keyId === undefined) {
      if (keyed) return { ok: false, seq: r.seq, problem: 'an unkeyed record after keyed ones' };
      if (!same(legacyRecordHash(rest), hash)) return { ok: false, seq: r.seq, problem: 'hash does not match the content' };
      legacy++;
    } else {
      keyed = true;
      const mac = recordMac(ring, keyId, rest);
      if (mac === undefined) return { ok: false, seq: r.seq, problem: `signed with audit key "${keyId}", which is not in the key ring (${ring.source})` };
      if (!same(mac, hash)) return { ok: false, seq: r.seq, problem: 'MAC does not match the content (edited, or forged without the key)' };
    }
    previous = hash;
  }
  if (records.length > 0 && keyed && !head) return { ok: false, seq: 'head', problem: 'the head checkpoint is missing' };
  if (head) {
    if (head.stream !== stream) return { ok: false, seq: 'head', problem: `the head checkpoint belongs to stream "${head.stream}"` };
    const mac = headMac(ring, head.keyId, head);
    if (mac === undefined) return { ok: false, seq: 'head', problem: `signed with audit key "${head.keyId}", which is not in the key ring (${ring.source})` };
    if (!same(mac, head.mac)) return { ok: false, seq: 'head', problem: 'the head checkpoint MAC does not match (edited)' };
    const at = head.seq === GENESIS.seq ? { hash: GENESIS.hash } : records[head.seq];
    if (!at)
      return {
        ok: false,
        seq: 'head',
        problem: `the head names record ${head.seq} but the stream ends at ${records.length - 1}: records were removed from the end`,
      };
    if (!same(at.hash, head.hash)) return { ok: false, seq: 'head', problem: `record ${head.seq} is not the one the head was signed over` };
  }
  return { ok: true, records: records.length, legacy };
}

/**
 * The audit ring: the configured one, else one derived per pseudonym key (HKDF, its own label),
 * so a lake's audit MACs never equal anything else keyed by the pseudonym key.
 */
export function auditKeyRing(keys: Keys): KeyRing {
  if (keys.audit) return keys.audit;
  const derived = new Map<string, Buffer>();
  for (const [id, key] of keys.pseudonym.keys) derived.set(`${id}~audit`, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'carepipe audit chain', 32)));
  return { activeId: `${keys.pseudonym.activeId}~audit`, keys: derived, source: `derived from ${keys.pseudonym.source}` };
}
