/**
 * The ingest map step for one raw file: decode, check against the contract, normalise, reject
 * bad rows with a reason, de-identify, and shuffle the rest into per-bucket curated fragments.
 * Outputs sit at keys derived from a hash of the input bytes and the curation settings, and the
 * file's manifest is written last, so a retry or rerun of an ingested file skips or overwrites
 * identical bytes and never duplicates rows.
 */
import type { Table } from 'apache-arrow';
import { CorruptFileError, InvalidInputError, SchemaMismatchError } from '../../core/errors.js';
import { lake, parseRawKey, type RawTable } from '../../data-lake/layout.js';
import type { IngestFileResult } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, readJson, sha256Hex, writeJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet, writeParquet } from '../io/parquet.js';
import { take, toTable } from './columns.js';
import { checkSchema } from './contract.js';
import { rejectDuplicateKeys } from './dedupe.js';
import { bucketOf, Pseudonymizer } from './pseudonymizer.js';
import { REJECTED, CORRECTED, type NormalizeContext, type Normalized } from './tables/common.js';
import { normalizeDiagnoses } from './tables/diagnoses.js';
import { normalizeEncounters } from './tables/encounters.js';
import { normalizeLabResults } from './tables/lab-results.js';
import { normalizePatients } from './tables/patients.js';
import { type FileManifest, quarantineFile, writeRejects } from './outputs.js';

/** Bump when curation output changes for the same input: every file is then re-curated. */
export const CURATION_VERSION = 'curation-1';

const NORMALIZERS: Record<RawTable, (table: Table, ctx: NormalizeContext) => Normalized> = {
  patients: normalizePatients,
  encounters: normalizeEncounters,
  diagnoses: normalizeDiagnoses,
  lab_results: normalizeLabResults,
};

export interface IngestFileInput {
  lake: string;
  key: string;
  bucketCount: number;
}

function resultOf(m: FileManifest, status: IngestFileResult['status']): IngestFileResult {
  return {
    key: m.source, status, rowsIn: m.rowsIn, accepted: m.accepted, corrected: m.corrected, rejected: m.rejected,
    fragments: m.fragments.length, ...(m.quarantine ? { reasonType: m.quarantine.reasonType } : {}),
  };
}

export async function ingestFile(deps: ActivityDeps, input: IngestFileInput): Promise<IngestFileResult> {
  const parts = parseRawKey(input.key);
  if (!parts) throw new InvalidInputError(`ingest: "${input.key}" is not a raw key (raw/<table>/ingest_date=YYYY-MM-DD/<file>)`);
  const store = deps.lake(input.lake);
  const pseudonymizer = new Pseudonymizer(deps.keys.pseudonym);
  const bytes = await store.get(input.key);
  const inputHash = sha256Hex(bytes, CURATION_VERSION, pseudonymizer.keyId, String(input.bucketCount));
  const manifestKey = lake.ingestFileManifest(parts.table, parts.date, parts.fileName);
  const previous = await readJson<FileManifest>(store, manifestKey);
  if (previous?.inputHash === inputHash) return resultOf(previous, 'skipped');

  const base = {
    source: input.key, table: parts.table, ingestDate: parts.date, fileName: parts.fileName, inputHash,
    curationVersion: CURATION_VERSION, pseudonymKeyId: pseudonymizer.keyId, bucketCount: input.bucketCount,
  };
  const log = deps.logger.child({ ...activityLogFields(), source: input.key });
  heartbeat({ step: 'decode' });
  let normalized: Normalized;
  try {
    const table = readParquet(bytes, { source: input.key });
    checkSchema(parts.table, table.schema.fields, input.key);
    normalized = NORMALIZERS[parts.table](table, { source: input.key, ingestDate: parts.date, fileName: parts.fileName, pseudonymizer });
  } catch (err) {
    if (!(err instanceof CorruptFileError || err instanceof SchemaMismatchError)) throw err;
    const manifest = await quarantineFile(store, base, bytes, err);
    await writeJson(store, manifestKey, manifest);
    log.warn('file quarantined', { reasonType: err.type });
    return resultOf(manifest, 'quarantined');
  }
  rejectDuplicateKeys(normalized);

  heartbeat({ step: 'write' });
  const fragments = await writeFragments(store, normalized, parts, inputHash.slice(0, 16), input.bucketCount);
  const { status, reasons } = normalized.verdicts;
  const rejectReasons: Record<string, number> = {};
  let rejected = 0;
  let corrected = 0;
  for (let i = 0; i < status.length; i++) {
    if (status[i] === REJECTED) {
      rejected++;
      rejectReasons[reasons[i]!] = (rejectReasons[reasons[i]!] ?? 0) + 1;
    } else if (status[i] === CORRECTED) corrected++;
  }
  const rejectsKey = rejected > 0 ? await writeRejects(store, normalized, parts, inputHash.slice(0, 16)) : null;
  const manifest: FileManifest = {
    ...base, status: 'ingested', rowsIn: status.length, accepted: status.length - rejected - corrected, corrected, rejected,
    rejectReasons, fragments, rejectsKey,
  };
  await writeJson(store, manifestKey, manifest);
  // A previous curation of this file under other settings left fragments the new ones replace.
  for (const stale of previous?.fragments ?? []) if (!fragments.includes(stale)) await store.delete(stale);
  log.info('file ingested', { rowsIn: manifest.rowsIn, rejected, corrected, fragments: fragments.length });
  return resultOf(manifest, 'ingested');
}

async function writeFragments(
  store: ObjectStore, n: Normalized, parts: { table: RawTable; date: string }, hash: string, bucketCount: number,
): Promise<string[]> {
  const rowsByBucket = new Map<number, number[]>();
  for (let row = 0; row < n.verdicts.n; row++) {
    const key = n.patientKeys[row];
    if (!n.verdicts.ok(row) || !key) continue;
    const b = bucketOf(key, bucketCount);
    let rows = rowsByBucket.get(b);
    if (!rows) rowsByBucket.set(b, (rows = []));
    rows.push(row);
  }
  const keys: string[] = [];
  for (const bucket of [...rowsByBucket.keys()].sort((a, b) => a - b)) {
    const rows = Uint32Array.from(rowsByBucket.get(bucket)!);
    const key = lake.curatedFragment(parts.table, bucket, parts.date, hash);
    await store.put(key, writeParquet(toTable(n.columns.map((c) => take(c, rows)))));
    keys.push(key);
  }
  return keys;
}
