/**
 * The side outputs of ingesting a file: the rejects file (row index and reason code, plus the
 * pseudonym, never raw values), the quarantine copy of an unreadable file with its reason, and
 * the per-file manifest that accounts for every input row.
 */
import { Table } from 'apache-arrow';
import type { CarepipeError } from '../../core/errors.js';
import { lake, type RawTable } from '../../data-lake/layout.js';
import { int32Vector, utf8Vector } from '../io/arrow-columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { writeParquet } from '../io/parquet.js';
import { writeJson } from '../context.js';
import { REJECTED, type Normalized } from './tables/common.js';

export interface FileManifest {
  source: string;
  table: RawTable;
  ingestDate: string;
  fileName: string;
  inputHash: string;
  curationVersion: string;
  pseudonymKeyId: string;
  bucketCount: number;
  status: 'ingested' | 'quarantined';
  /** in = accepted + corrected + rejected. A quarantined file's rows are not counted: the whole file is set aside. */
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  fragments: string[];
  rejectsKey: string | null;
  quarantine?: { key: string; reasonType: string; reason: string };
}

export async function writeRejects(store: ObjectStore, n: Normalized, parts: { table: RawTable; date: string; fileName: string }, hash: string): Promise<string> {
  const rows: number[] = [];
  for (let i = 0; i < n.verdicts.n; i++) if (n.verdicts.status[i] === REJECTED) rows.push(i);
  const table = new Table({
    source_file: utf8Vector(rows.map(() => parts.fileName)),
    row_index: int32Vector(Int32Array.from(rows)),
    reason: utf8Vector(rows.map((r) => n.verdicts.reasons[r] ?? null)),
    patient_key: utf8Vector(rows.map((r) => n.patientKeys[r] ?? null)),
  });
  const key = lake.rejects(parts.table, parts.date, hash);
  await store.put(key, writeParquet(table));
  return key;
}

type ManifestBase = Omit<FileManifest, 'status' | 'rowsIn' | 'accepted' | 'corrected' | 'rejected' | 'rejectReasons' | 'fragments' | 'rejectsKey' | 'quarantine'>;

/** Copies the unreadable file whole into the quarantine zone (same access rules as raw/) with its reason. */
export async function quarantineFile(store: ObjectStore, base: ManifestBase, bytes: Uint8Array, err: CarepipeError): Promise<FileManifest> {
  const key = lake.quarantine(base.table, base.ingestDate, base.fileName);
  await store.put(key, bytes);
  await writeJson(store, lake.quarantineReason(base.table, base.ingestDate, base.fileName), {
    source: base.source, reasonType: err.type, reason: err.message, inputHash: base.inputHash,
  });
  return {
    ...base, status: 'quarantined', rowsIn: 0, accepted: 0, corrected: 0, rejected: 0, rejectReasons: {},
    fragments: [], rejectsKey: null, quarantine: { key, reasonType: err.type, reason: err.message },
  };
}
