/**
 * The ingest reduce step: per table and ingest date, one manifest that sums the file manifests
 * and checks the row accounting (in = accepted + corrected + rejected) before it is written.
 *
 * A day manifest also records, per file, what the listing of the raw zone needs to skip it
 * without reading anything else (the raw object's etag and size, the curation settings, the
 * accounting) and the etag of the file manifest it summed. A year's run for one more day reads
 * the day manifests of the year instead of every file manifest and every raw object's head
 * (list-raw.ts), and rewrites only the days whose file manifests moved since.
 */
import { InvalidInputError } from '../../core/errors.js';
import { INGEST_FILE_MANIFEST_RE, lake, parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { IngestFileResult } from '../../schemas/workflows.js';
import { mapBounded } from '../../core/map-bounded.js';
import { type ActivityDeps, readJson } from '../context.js';
import { getJson } from '../curated/store-json.js';
import { inRange } from './list-raw.js';
import { curationSettings, type FileManifest } from './outputs.js';

export interface WriteIngestManifestsInput {
  lake: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
}

export interface DayFileEntry {
  source: string;
  status: FileManifest['status'];
  rowsIn: number;
  inputHash: string;
  accepted?: number;
  corrected?: number;
  rejected?: number;
  fragments?: number;
  reasonType?: string;
  /** The raw object the file manifest recorded, and the settings it was curated under (curationSettings). */
  raw?: { etag: string; size: number };
  settings?: string;
  /** The etag of the file manifest summed here: another etag means the entry is stale. */
  manifestEtag?: string;
}

export interface DayManifest {
  table: RawTable;
  ingestDate: string;
  files: DayFileEntry[];
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  quarantined: string[];
}

/** The ingest result a skipped file reports, from its day manifest entry (null when the entry predates the fields it needs). */
export function skippedResult(entry: DayFileEntry): IngestFileResult | null {
  if (entry.accepted === undefined || entry.corrected === undefined || entry.rejected === undefined || entry.fragments === undefined) return null;
  return {
    key: entry.source,
    status: 'skipped',
    rowsIn: entry.rowsIn,
    accepted: entry.accepted,
    corrected: entry.corrected,
    rejected: entry.rejected,
    fragments: entry.fragments,
    ...(entry.reasonType ? { reasonType: entry.reasonType } : {}),
  };
}

function entryOf(f: FileManifest, manifestEtag: string): DayFileEntry {
  return {
    source: f.source,
    status: f.status,
    rowsIn: f.rowsIn,
    inputHash: f.inputHash,
    accepted: f.accepted,
    corrected: f.corrected,
    rejected: f.rejected,
    fragments: f.fragments.length,
    ...(f.quarantine ? { reasonType: f.quarantine.reasonType } : {}),
    ...(f.raw ? { raw: f.raw } : {}),
    settings: curationSettings(f.curationVersion, f.pseudonymKeyId, f.bucketCount),
    manifestEtag,
  };
}

/** The day manifest already sums exactly these file manifests (keys and etags). */
function isCurrent(day: DayManifest | null, files: ReadonlyMap<string, string>): boolean {
  if (!day || day.files.length !== files.size) return false;
  return day.files.every((f) => {
    const parts = parseRawKey(f.source);
    return (
      parts !== undefined && f.manifestEtag !== undefined && files.get(lake.ingestFileManifest(parts.table, parts.date, parts.fileName)) === f.manifestEtag
    );
  });
}

export async function writeIngestManifests(deps: ActivityDeps, input: WriteIngestManifestsInput): Promise<string[]> {
  const store = deps.lake(input.lake);
  const tables = new Set<string>(input.tables ?? RAW_TABLES);
  const groups = new Map<string, Map<string, string>>();
  for await (const obj of store.list('manifests/ingest/')) {
    const m = INGEST_FILE_MANIFEST_RE.exec(obj.key);
    if (!m || !tables.has(m[1]!) || !inRange(m[2]!, input.from, input.to)) continue;
    const group = `${m[1]}|${m[2]}`;
    const files = groups.get(group) ?? new Map<string, string>();
    files.set(obj.key, obj.etag);
    groups.set(group, files);
  }
  const sorted = [...groups].sort(([a], [b]) => a.localeCompare(b));
  await mapBounded(sorted, 8, async ([group, files]) => {
    const [table, date] = group.split('|') as [RawTable, string];
    const key = lake.ingestManifest(table, date);
    const current = await getJson<DayManifest>(store, key);
    // A day none of whose file manifests moved is summed already: its files are not read again.
    if (isCurrent(current, files)) return;
    const day: DayManifest = { table, ingestDate: date, files: [], rowsIn: 0, accepted: 0, corrected: 0, rejected: 0, rejectReasons: {}, quarantined: [] };
    for (const [fileKey, etag] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const f = await readJson<FileManifest>(store, fileKey);
      if (!f) continue;
      if (f.rowsIn !== f.accepted + f.corrected + f.rejected) {
        throw new InvalidInputError(`ingest manifest ${fileKey}: rows in (${f.rowsIn}) != accepted + corrected + rejected`);
      }
      day.files.push(entryOf(f, etag));
      day.rowsIn += f.rowsIn;
      day.accepted += f.accepted;
      day.corrected += f.corrected;
      day.rejected += f.rejected;
      for (const [reason, count] of Object.entries(f.rejectReasons)) day.rejectReasons[reason] = (day.rejectReasons[reason] ?? 0) + count;
      if (f.status === 'quarantined') day.quarantined.push(f.source);
    }
    // Rewriting the same content would still move the object's etag, and compaction would re-read the day.
    const body = JSON.stringify(day, null, 2) + '\n';
    if (!current || JSON.stringify(current, null, 2) + '\n' !== body) await store.put(key, body, { contentType: 'application/json' });
  });
  return sorted.map(([group]) => {
    const [table, date] = group.split('|') as [RawTable, string];
    return lake.ingestManifest(table, date);
  });
}
