/**
 * The quarantine copy of an unreadable file with its reason, and the per-file manifest that
 * accounts for every input row.
 */
import type { Readable } from 'node:stream';
import { lake, type RawTable } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';
import { writeJson } from '../context.js';

/** A file's curated rows of one bucket, staged until compaction folds them into the bucket's generation. */
export interface CuratedFragment {
  bucket: number;
  /** The staged fragment: one per batch of files and bucket. */
  key: string;
  /** The file's rows in it: [offset, offset + rows). */
  rows: number;
  offset?: number;
  /** SHA-256 of the file's own rows of the bucket (curate.ts, hashRows): what identifies them to compaction. */
  sha256: string;
  /** Files whose rows the fragment holds (1 when absent). */
  members?: number;
}

/** What a file was curated under: a file curated under other settings is curated again. */
export const curationSettings = (curationVersion: string, pseudonymKeyId: string, bucketCount: number) => `${curationVersion}|${pseudonymKeyId}|${bucketCount}`;

export interface FileManifest {
  source: string;
  table: RawTable;
  ingestDate: string;
  fileName: string;
  inputHash: string;
  curationVersion: string;
  pseudonymKeyId: string;
  bucketCount: number;
  /** The raw object as it was read (etag, size): a later run finding the same skips it without reading it. */
  raw?: { etag: string; size: number };
  status: 'ingested' | 'quarantined';
  /** in = accepted + corrected + rejected. A quarantined file's rows are not counted: the whole file is set aside. */
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Staged per bucket; compaction deletes each once its rows are in the bucket's generation. */
  fragments: CuratedFragment[];
  rejectsKey: string | null;
  quarantine?: { key: string; reasonType: string; reason: string };
}

type ManifestBase = Omit<
  FileManifest,
  'status' | 'rowsIn' | 'accepted' | 'corrected' | 'rejected' | 'rejectReasons' | 'fragments' | 'rejectsKey' | 'quarantine'
>;

/** Copies the unreadable file whole (bytes in hand, or a stream for a file too large to hold) into the quarantine zone (same access rules as raw/) with its reason. */
export async function quarantineFile(
  store: ObjectStore,
  base: ManifestBase,
  bytes: Uint8Array | Readable,
  err: { reasonType: string; reason: string },
): Promise<FileManifest> {
  const key = lake.quarantine(base.table, base.ingestDate, base.fileName);
  await store.put(key, bytes);
  await writeJson(store, lake.quarantineReason(base.table, base.ingestDate, base.fileName), {
    source: base.source,
    reasonType: err.reasonType,
    reason: err.reason,
    inputHash: base.inputHash,
  });
  return {
    ...base,
    status: 'quarantined',
    rowsIn: 0,
    accepted: 0,
    corrected: 0,
    rejected: 0,
    rejectReasons: {},
    fragments: [],
    rejectsKey: null,
    quarantine: { key, reasonType: err.reasonType, reason: err.reason },
  };
}
