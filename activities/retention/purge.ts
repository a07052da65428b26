/**
 * Retention: what `carepipe lake purge` deletes from a zone (raw/, quarantine/, rejects/), and
 * stale quarantine copies (a quarantined file whose raw file was later fixed and ingested: its
 * file manifest now says `ingested`). An object's age is its partition's ingest date where its
 * key has one (`ingest_date=D`), else its last-modified time. Applying audits the purge (counts,
 * never file names) before the first deletion, so no deletion goes unrecorded.
 */
import { createHash } from 'node:crypto';
import type { PurgeableZone } from '../../core/compliance.js';
import { mapBounded } from '../../core/map-bounded.js';
import { lake } from '../../data-lake/layout.js';
import type { RawTable } from '../../data-lake/layout.js';
import { auditEvent } from '../audit/events.js';
import { readJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import type { FileManifest } from '../ingest/outputs.js';

export interface PurgePlan {
  zone: PurgeableZone;
  olderThanDays: number;
  /** Objects dated before this day (UTC) are expired. */
  cutoff: string;
  expired: { key: string; size: number }[];
  /** Quarantine copies (and their reason files) whose raw file has since been ingested. */
  staleQuarantine: { key: string; size: number }[];
}

const DAY_MS = 86_400_000;
const DATE_RE = /(?:^|\/)ingest_date=(\d{4}-\d{2}-\d{2})\//;
const QUARANTINE_RE = /^quarantine\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/(.+)$/;

export async function planPurge(store: ObjectStore, zone: PurgeableZone, olderThanDays: number, now = new Date()): Promise<PurgePlan> {
  const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - olderThanDays * DAY_MS).toISOString().slice(0, 10);
  const expired: PurgePlan['expired'] = [];
  for await (const o of store.list(`${zone}/`)) {
    const day = DATE_RE.exec(o.key)?.[1] ?? o.lastModified.toISOString().slice(0, 10);
    if (day < cutoff) expired.push({ key: o.key, size: o.size });
  }
  const taken = new Set(expired.map((e) => e.key));
  const staleQuarantine: PurgePlan['staleQuarantine'] = [];
  const quarantined = new Map<string, { key: string; size: number }>();
  for await (const o of store.list('quarantine/')) quarantined.set(o.key, { key: o.key, size: o.size });
  for (const q of quarantined.values()) {
    const m = QUARANTINE_RE.exec(q.key);
    if (!m || q.key.endsWith('.reason.json')) continue;
    const [, table, date, file] = m as unknown as [string, RawTable, string, string];
    const manifest = await readJson<FileManifest>(store, lake.ingestFileManifest(table, date, file));
    if (manifest?.status !== 'ingested') continue; // still quarantined (or never recorded): kept until its age expires it
    for (const key of [q.key, `${q.key}.reason.json`]) {
      const found = quarantined.get(key);
      if (found && !taken.has(key)) staleQuarantine.push(found);
    }
  }
  return { zone, olderThanDays, cutoff, expired, staleQuarantine };
}

/** Identifies a plan by what it deletes: re-applying the same plan (a retry) audits it once. */
export const planId = (plan: PurgePlan): string =>
  createHash('sha256')
    .update(JSON.stringify([plan.zone, plan.cutoff, plan.expired.map((e) => e.key), plan.staleQuarantine.map((e) => e.key)]))
    .digest('hex')
    .slice(0, 16);

export function planTotals(plan: PurgePlan): { objects: number; bytes: number; staleQuarantine: number } {
  const all = [...plan.expired, ...plan.staleQuarantine];
  return { objects: all.length, bytes: all.reduce((n, o) => n + o.size, 0), staleQuarantine: plan.staleQuarantine.length };
}

/** Audits, then deletes. Returns how many objects were deleted. */
export async function applyPurge(store: ObjectStore, plan: PurgePlan, actor?: string): Promise<number> {
  const totals = planTotals(plan);
  if (totals.objects === 0) return 0;
  await auditEvent(store, {
    action: 'purge',
    purpose: 'retention',
    scope: plan.zone,
    eventId: `purge:${plan.zone}:${planId(plan)}`,
    ...(actor ? { actor } : {}),
    details: { zone: plan.zone, olderThanDays: plan.olderThanDays, cutoff: plan.cutoff, expired: plan.expired.length, ...totals },
  });
  await mapBounded([...plan.expired, ...plan.staleQuarantine], 16, (o) => store.delete(o.key));
  return totals.objects;
}
