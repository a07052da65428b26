/**
 * De-identification keys (docs/architecture.md, "De-identification"): the patient id becomes an HMAC pseudonym, dates shift by a
 * per-patient keyed offset (so intervals survive), and the patient bucket is a hash of the
 * pseudonym. Changing the key changes every output, so rotation means a full re-curation, which
 * the content hashes of curated files make explicit.
 */
import { createHmac } from 'node:crypto';
import type { KeyRing } from '../../core/config.js';

const DAY_MS = 86_400_000;
/** Offsets are whole days in [-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS] \ {0}. */
export const MAX_SHIFT_DAYS = 180;

export interface PatientKeys {
  key: string;
  shiftDays: number;
}

export class Pseudonymizer {
  readonly keyId: string;
  private readonly secret: Buffer;
  private readonly cache = new Map<string, PatientKeys>();
  private readonly encounters = new Map<string, string>();

  constructor(ring: KeyRing) {
    this.keyId = ring.activeId;
    this.secret = ring.keys.get(ring.activeId)!;
  }

  patient(patientId: string): PatientKeys {
    let keys = this.cache.get(patientId);
    if (!keys) {
      const mac = createHmac('sha256', this.secret).update('patient\0').update(patientId).digest();
      const span = 2 * MAX_SHIFT_DAYS;
      const r = mac.readUInt32BE(28) % span; // 0..span-1, mapped to -MAX..-1, 1..MAX
      keys = { key: `p${mac.subarray(0, 12).toString('hex')}`, shiftDays: r < MAX_SHIFT_DAYS ? r - MAX_SHIFT_DAYS : r - MAX_SHIFT_DAYS + 1 };
      if (this.cache.size > 1_000_000) this.cache.clear();
      this.cache.set(patientId, keys);
    }
    return keys;
  }

  shiftMs(patientId: string): number {
    return this.patient(patientId).shiftDays * DAY_MS;
  }

  /**
   * Record ids are pseudonymised too: producers often build them from the MRN (Safe Harbor's
   * "any other unique identifying number"). Keyed, so joins between curated tables still work.
   */
  encounterId(id: string): string {
    let key = this.encounters.get(id);
    if (!key) {
      key = `e${this.mac('encounter', id)}`;
      if (this.encounters.size > 1_000_000) this.encounters.clear();
      this.encounters.set(id, key);
    }
    return key;
  }

  labId(id: string): string {
    return `l${this.mac('lab', id)}`; // unique per row: not worth caching
  }

  private mac(domain: string, id: string): string {
    return createHmac('sha256', this.secret).update(domain).update('\0').update(id).digest().subarray(0, 12).toString('hex');
  }
}

/** The patient's bucket: a hash of the (already keyed) pseudonym, modulo the bucket count. */
export function bucketOf(patientKey: string, bucketCount: number): number {
  return Number.parseInt(patientKey.slice(1, 9), 16) % bucketCount;
}

/** Safe Harbor: 3-digit zip prefixes of areas under 20,000 people become 000. */
const RESTRICTED_ZIP3 = new Set(['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893']);

export function zip3(zip: string | null): string | null {
  if (zip === null) return null;
  const m = /^(\d{3})\d{2}(-\d{4})?$/.exec(zip.trim());
  if (!m) return null;
  return RESTRICTED_ZIP3.has(m[1]!) ? '000' : m[1]!;
}
