/**
 * The compacted curated zone's bookkeeping. Per table and patient bucket, one generation file
 * holds every curated row of the files its record lists, in the contract's order (ingest date,
 * then file name; a file's rows in its own order), and the record (`_current.json`) says which
 * generation is current. A generation's name is a hash of the files it holds (each by ingest
 * date, name and the SHA-256 of its curated fragment for the bucket), so the same files give the
 * same key and, being one Arrow batch (io/arrow-gather.ts), the same bytes, whatever the history
 * of compactions that led there. The record is replaced by a conditional write, which is the
 * atomic step: a reader follows the record it read, and sees the old generation or the new one.
 */
import { PreconditionFailedError } from '../../core/errors.js';
import { lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { sha256Hex } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { getJson } from './store-json.js';

/** One raw file's rows in a bucket: identified by content, so an unchanged bucket keeps its generation. */
export interface CuratedFileEntry {
  ingestDate: string;
  fileName: string;
  /** SHA-256 of the file's curated fragment for this bucket. */
  sha256: string;
  rows: number;
}

export interface SupersededGeneration {
  key: string;
  /** When a newer generation replaced it: it is deleted once no reader can still be planned on it. */
  at: string;
}

export interface GenerationRecord {
  table: RawTable;
  bucket: number;
  bucketCount: number;
  pseudonymKeyId: string;
  curationVersion: string;
  /** null when the bucket holds no rows of this table any more. */
  generation: string | null;
  key: string | null;
  rows: number;
  bytes: number;
  /** In the contract's order: the order of their rows in the generation. */
  files: CuratedFileEntry[];
  superseded: SupersededGeneration[];
}

export interface RecordState {
  record: GenerationRecord | null;
  etag: string | null;
}

export const fileIdentity = (f: Pick<CuratedFileEntry, 'ingestDate' | 'fileName' | 'sha256'>) => `${f.ingestDate}/${f.fileName}/${f.sha256}`;

/** The contract's order of corrections: ingest date, then file name. */
export function fileOrder(a: Pick<CuratedFileEntry, 'ingestDate' | 'fileName'>, b: Pick<CuratedFileEntry, 'ingestDate' | 'fileName'>): number {
  if (a.ingestDate !== b.ingestDate) return a.ingestDate < b.ingestDate ? -1 : 1;
  return a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0;
}

export function generationId(
  settings: { table: RawTable; bucket: number; bucketCount: number; pseudonymKeyId: string; curationVersion: string },
  files: readonly CuratedFileEntry[],
): string {
  const { table, bucket, bucketCount, pseudonymKeyId, curationVersion } = settings;
  return sha256Hex(curationVersion, String(bucketCount), pseudonymKeyId, table, String(bucket), ...files.map(fileIdentity)).slice(0, 16);
}

/** The record and the etag it was read at; a change between the two reads is retried by the caller. */
export async function readRecord(store: ObjectStore, table: RawTable, bucket: number): Promise<RecordState> {
  const key = lake.curatedRecord(table, bucket);
  const info = await store.head(key);
  if (!info) return { record: null, etag: null };
  const record = JSON.parse(new TextDecoder().decode(await store.get(key))) as GenerationRecord;
  const after = await store.head(key);
  if (after?.etag !== info.etag) throw new PreconditionFailedError(`${key} changed while it was read`);
  return { record, etag: info.etag };
}

/** Replaces the record read as `expected`; PreconditionFailedError if another compaction replaced it first. */
export async function replaceRecord(store: ObjectStore, expected: RecordState, record: GenerationRecord): Promise<void> {
  // Compact: a record lists every file of its bucket, a year is hundreds of entries, and its bytes count in curated/.
  const body = JSON.stringify(record) + '\n';
  await store.put(lake.curatedRecord(record.table, record.bucket), body, expected.etag === null ? { ifNoneMatch: '*' } : { ifMatch: expected.etag });
}

/** Every table's record of a bucket, for the feature planner (absent tables as null). */
export async function readBucketRecords(store: ObjectStore, bucket: number): Promise<Record<RawTable, GenerationRecord | null>> {
  const out = {} as Record<RawTable, GenerationRecord | null>;
  for (const table of RAW_TABLES) out[table] = await getJson<GenerationRecord>(store, lake.curatedRecord(table, bucket));
  return out;
}
