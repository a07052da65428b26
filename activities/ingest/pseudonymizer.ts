/**
 * De-identification keys (DESIGN.md): the patient id becomes an HMAC pseudonym, dates shift by a
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
