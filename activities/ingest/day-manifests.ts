/**
 * The ingest reduce step: per table and ingest date, one manifest that sums the file manifests
 * and checks the row accounting (in = accepted + corrected + rejected) before it is written.
 */
import { InvalidInputError } from '../../core/errors.js';
import { INGEST_FILE_MANIFEST_RE, lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { type ActivityDeps, readJson } from '../context.js';
import { getJson } from '../curated/store-json.js';
import { inRange } from './list-raw.js';
import type { FileManifest } from './outputs.js';

export interface WriteIngestManifestsInput {
  lake: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
}

export interface DayManifest {
  table: RawTable;
  ingestDate: string;
  files: { source: string; status: FileManifest['status']; rowsIn: number; inputHash: string }[];
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  quarantined: string[];
}

export async function writeIngestManifests(deps: ActivityDeps, input: WriteIngestManifestsInput): Promise<string[]> {
  const store = deps.lake(input.lake);
  const tables = new Set<string>(input.tables ?? RAW_TABLES);
  const groups = new Map<string, string[]>();
  for await (const obj of store.list('manifests/ingest/')) {
    const m = INGEST_FILE_MANIFEST_RE.exec(obj.key);
    if (!m || !tables.has(m[1]!) || !inRange(m[2]!, input.from, input.to)) continue;
    const group = `${m[1]}|${m[2]}`;
    groups.set(group, [...(groups.get(group) ?? []), obj.key]);
  }
  const written: string[] = [];
  for (const [group, keys] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [table, date] = group.split('|') as [RawTable, string];
    const day: DayManifest = { table, ingestDate: date, files: [], rowsIn: 0, accepted: 0, corrected: 0, rejected: 0, rejectReasons: {}, quarantined: [] };
    for (const key of keys) {
      const f = await readJson<FileManifest>(store, key);
      if (!f) continue;
      if (f.rowsIn !== f.accepted + f.corrected + f.rejected) {
        throw new InvalidInputError(`ingest manifest ${key}: rows in (${f.rowsIn}) != accepted + corrected + rejected`);
      }
      day.files.push({ source: f.source, status: f.status, rowsIn: f.rowsIn, inputHash: f.inputHash });
      day.rowsIn += f.rowsIn;
      day.accepted += f.accepted;
      day.corrected += f.corrected;
      day.rejected += f.rejected;
      for (const [reason, count] of Object.entries(f.rejectReasons)) day.rejectReasons[reason] = (day.rejectReasons[reason] ?? 0) + count;
      if (f.status === 'quarantined') day.quarantined.push(f.source);
    }
    const key = lake.ingestManifest(table, date);
    // Rewriting the same content would still move the object's etag, and compaction would re-read the day.
    const body = JSON.stringify(day, null, 2) + '\n';
    const current = await getJson<DayManifest>(store, key);
    if (!current || JSON.stringify(current, null, 2) + '\n' !== body) await store.put(key, body, { contentType: 'application/json' });
    written.push(key);
  }
  return written;
}
