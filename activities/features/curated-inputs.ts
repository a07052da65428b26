/**
 * What the curated zone holds, according to the ingest per-file manifests: the feature build reads
 * exactly the fragments they name. A listing of `curated/` would also find fragments no manifest
 * names: those of an `ingestFile` attempt that died before writing its manifest, or the outputs a
 * re-curation replaced but did not get to delete. They are never read, and the planner deletes
 * them once they are old enough that no ingest can still be writing them (sweepOrphanFragments).
 */
import { InvalidInputError } from '../../core/errors.js';
import { INGEST_FILE_MANIFEST_RE, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { Pace } from '../context.js';
import type { FileManifest } from '../ingest/outputs.js';
import type { ObjectStore } from '../io/object-store.js';
import { mapBounded } from '../../core/map-bounded.js';

const DAY_MANIFEST_RE = /^manifests\/ingest\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\.json$/;
const FRAGMENT_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/part-[0-9a-f]+\.parquet$/;

/**
 * How old an unnamed fragment must be before the planner deletes it. An `ingestFile` attempt
 * writes its fragments and then its manifest; Temporal gives an attempt at most its start-to-close
 * timeout (1 h, `shardActivity`), so a fragment unnamed for longer than that plus a margin was
 * left by an attempt that is over. Planning time rather than the end of an ingest run, because
 * ingest runs overlap (a backfill runs one per date, a scheduled retrain may run beside it) and
 * none of them knows when the others are done; the planner already reads every manifest.
 */
export const ORPHAN_GRACE_MS = 2 * 60 * 60_000;

export interface FragmentRef {
  key: string;
  table: RawTable;
  bucket: number;
  ingestDate: string;
  /** The raw file it was curated from: with the ingest date, the contract's order of corrections. */
  fileName: string;
}

export interface IngestManifestKeys {
  files: string[];
  /** Per-day manifests: the sources a feature manifest cites. */
  days: { key: string; table: RawTable; ingestDate: string }[];
}

/** The per-file and per-day ingest manifests, in key order. */
export async function listIngestManifests(store: ObjectStore, pace: Pace): Promise<IngestManifestKeys> {
  const out: IngestManifestKeys = { files: [], days: [] };
  for await (const obj of store.list('manifests/ingest/')) {
    await pace();
    if (INGEST_FILE_MANIFEST_RE.test(obj.key)) out.files.push(obj.key);
    const day = DAY_MANIFEST_RE.exec(obj.key);
    if (day) out.days.push({ key: obj.key, table: day[1] as RawTable, ingestDate: day[2]! });
  }
  return out;
}

/** Reads manifests `limit` at a time, pacing between them (a year of daily files is thousands). */
export async function readFileManifests(store: ObjectStore, keys: readonly string[], pace: Pace, limit = 16): Promise<FileManifest[]> {
  const decoder = new TextDecoder();
  return mapBounded(keys, limit, async (key) => {
    const manifest = JSON.parse(decoder.decode(await store.get(key))) as FileManifest;
    await pace();
    return manifest;
  });
}

const tally = <T>(items: readonly T[]) => {
  const counts = new Map<T, number>();
  for (const x of items) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
};

/**
 * Refuses a curated zone that mixes pseudonym keys or bucket counts (or was bucketed otherwise
 * than this build): a patient's rows would sit under two pseudonyms or in two buckets, and the
 * features would silently split histories. Only ingested files count: a quarantined file has no
 * curated rows. Non-retryable: re-curating is the fix, and the message says how.
 */
export function checkCuratedZone(manifests: readonly FileManifest[], bucketCount: number, lakeUri: string, currentKeyId?: string): void {
  const ingested = manifests.filter((m) => m.status === 'ingested');
  const keys = tally(ingested.map((m) => m.pseudonymKeyId));
  const counts = tally(ingested.map((m) => m.bucketCount));
  const problems: string[] = [];
  if (keys.length > 1) {
    problems.push(`it mixes pseudonym keys (files ${keys.map(([id, n]) => `under key id ${id}: ${n}`).join(', ')})`);
  }
  if (counts.some(([n]) => n !== bucketCount)) {
    problems.push(`it was curated into other bucket counts than this build's ${bucketCount} (files ${counts.map(([b, n]) => `with ${b} buckets: ${n}`).join(', ')})`);
  }
  if (problems.length === 0) return;
  const key = currentKeyId ? `CAREPIPE_PSEUDONYM_KEY_ID=${currentKeyId}` : 'the current pseudonym key';
  throw new InvalidInputError(
    `features: cannot plan from the curated zone: ${problems.join('; ')}. Re-run \`carepipe ingest --lake ${lakeUri} --buckets ${bucketCount}\` ` +
    `with ${key} to re-curate every file under one key and bucket count, then build the features again.`,
  );
}

/** Every fragment the ingested files' manifests name (each key once). */
export function namedFragments(manifests: readonly FileManifest[]): FragmentRef[] {
  const seen = new Set<string>();
  const out: FragmentRef[] = [];
  for (const m of manifests) {
    if (m.status !== 'ingested') continue;
    for (const key of m.fragments) {
      const parts = FRAGMENT_RE.exec(key);
      if (!parts || parts[1] !== m.table || parts[3] !== m.ingestDate) {
        throw new InvalidInputError(`features: ingest manifest of ${m.table}/${m.ingestDate} names "${key}", not one of its curated fragments`);
      }
      if (seen.has(key)) continue; // two files of identical bytes on one day share their fragments
      seen.add(key);
      out.push({ key, table: m.table, bucket: Number(parts[2]), ingestDate: m.ingestDate, fileName: m.fileName });
    }
  }
  return out;
}

/**
 * Orders a bucket's fragments as the contract orders corrections: table, ingest date, then file
 * name (the key, a content hash, only breaks ties between files of one name, which cannot
 * happen). The read order, and so the row order of the tables the features are computed from,
 * never depends on a hash.
 */
export function contractOrder(a: FragmentRef, b: FragmentRef): number {
  const ta = RAW_TABLES.indexOf(a.table);
  const tb = RAW_TABLES.indexOf(b.table);
  if (ta !== tb) return ta - tb;
  if (a.ingestDate !== b.ingestDate) return a.ingestDate < b.ingestDate ? -1 : 1;
  if (a.fileName !== b.fileName) return a.fileName < b.fileName ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

export interface SweepResult {
  /** Unnamed fragments deleted. */
  deleted: number;
  /** Unnamed fragments younger than the grace period: left for a later plan (and never read). */
  pending: number;
}

/**
 * Deletes the curated fragments no manifest names that were last written before `cutoffMs`. Each
 * is looked at again just before its deletion, so one rewritten since the listing (an ingest
 * retrying the same file writes the same keys) is kept.
 */
export async function sweepOrphanFragments(store: ObjectStore, named: ReadonlySet<string>, cutoffMs: number, pace: Pace): Promise<SweepResult> {
  const result: SweepResult = { deleted: 0, pending: 0 };
  const old: string[] = [];
  for await (const obj of store.list('curated/')) {
    await pace();
    if (named.has(obj.key) || !FRAGMENT_RE.test(obj.key)) continue;
    if (obj.lastModified.getTime() < cutoffMs) old.push(obj.key);
    else result.pending++;
  }
  for (const key of old) {
    const now = await store.head(key);
    if (!now) continue;
    if (now.lastModified.getTime() >= cutoffMs) {
      result.pending++;
      continue;
    }
    await store.delete(key);
    result.deleted++;
    await pace();
  }
  return result;
}
