/**
 * compliance.yaml: retention per zone and how long audit records stay locked. Read and validated
 * when the config is (every command's start, the worker's too): an error names the file and the
 * field. Example (the repository's compliance.yaml):
 *
 *   retention:          # how long objects of a zone are kept; `carepipe lake purge` deletes older ones
 *     raw: 90d
 *     quarantine: 30d
 *     rejects: 365d
 *   audit:
 *     lockDays: 2190    # S3 Object Lock (compliance mode) on audit records, where the bucket has it
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from './errors.js';

/** Zones a purge may delete from: raw data and what ingest set aside. Curated, features, registry and audit are not purged by age. */
export const PURGEABLE_ZONES = ['raw', 'quarantine', 'rejects'] as const;
export type PurgeableZone = (typeof PURGEABLE_ZONES)[number];

export interface ComplianceSettings {
  /** Where the settings came from (a path), or `defaults`. */
  source: string;
  /** Days each zone keeps its objects; absent: no retention set (a purge needs --older-than). */
  retentionDays: Partial<Record<PurgeableZone, number>>;
  /** Days audit records are locked where the store has Object Lock; 0: not locked. */
  auditLockDays: number;
}

export const DEFAULT_COMPLIANCE: ComplianceSettings = { source: 'defaults', retentionDays: {}, auditLockDays: 0 };

/** `90d` -> 90. */
export function parseDays(value: unknown, field: string): number {
  const m = typeof value === 'string' ? /^(\d{1,5})d$/.exec(value.trim()) : null;
  const days = m ? Number(m[1]) : Number.NaN;
  if (!(days >= 1)) throw new ConfigError(`${field} must be a number of days like 90d (at least 1d), got ${JSON.stringify(value)}.`);
  return days;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseCompliance(text: string, source: string): ComplianceSettings {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new ConfigError(`${source}: not valid YAML.`, { cause });
  }
  doc ??= {};
  if (!isObject(doc)) throw new ConfigError(`${source}: must be a mapping with retention and audit.`);
  for (const k of Object.keys(doc)) if (k !== 'retention' && k !== 'audit') throw new ConfigError(`${source}: ${k} is not a setting (retention, audit).`);
  const retentionDays: ComplianceSettings['retentionDays'] = {};
  if (doc.retention !== undefined && doc.retention !== null) {
    if (!isObject(doc.retention)) throw new ConfigError(`${source}: retention must map zones to durations (raw: 90d).`);
    for (const [zone, value] of Object.entries(doc.retention)) {
      if (!(PURGEABLE_ZONES as readonly string[]).includes(zone)) {
        throw new ConfigError(`${source}: retention.${zone} is not a zone retention applies to (${PURGEABLE_ZONES.join(', ')}).`);
      }
      retentionDays[zone as PurgeableZone] = parseDays(value, `${source}: retention.${zone}`);
    }
  }
  let auditLockDays = 0;
  if (doc.audit !== undefined && doc.audit !== null) {
    if (!isObject(doc.audit)) throw new ConfigError(`${source}: audit must be a mapping (lockDays: 2190).`);
    for (const [k, v] of Object.entries(doc.audit)) {
      if (k !== 'lockDays') throw new ConfigError(`${source}: audit.${k} is not a setting (lockDays).`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 36_500) {
        throw new ConfigError(`${source}: audit.lockDays must be a whole number of days from 0 to 36500, got ${JSON.stringify(v)}.`);
      }
      auditLockDays = v;
    }
  }
  return { source, retentionDays, auditLockDays };
}

export function loadCompliance(path: string | undefined): ComplianceSettings {
  if (path === undefined) return DEFAULT_COMPLIANCE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`CAREPIPE_COMPLIANCE_FILE names ${path}, which cannot be read.`, { cause });
  }
  return parseCompliance(text, path);
}
