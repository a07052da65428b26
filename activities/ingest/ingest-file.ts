/**
 * The ingest map step for one raw file: read it, curate it (curate.ts, on the curator pool when
 * the worker has one), and write the per-bucket curated fragments, the rejects and the file's
 * manifest. Outputs sit at keys derived from a hash of the input bytes and the curation settings,
 * and the manifest is written last, so a retry or rerun of an ingested file skips or overwrites
 * identical bytes and never duplicates rows.
 */
import { InvalidInputError } from '../../core/errors.js';
import { lake, parseRawKey } from '../../data-lake/layout.js';
import type { IngestFileResult } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, heartbeat, readJson, sha256Hex, writeJson } from '../context.js';
import { type Curator, curateFile } from './curate.js';
import { type CuratedFragment, type FileManifest, quarantineFile } from './outputs.js';

/** The fragment keys of a manifest, whatever version wrote it (curation-4 and before listed bare keys). */
function staleFragmentKeys(m: FileManifest | undefined): string[] {
  return ((m?.fragments ?? []) as (CuratedFragment | string)[]).map((f) => (typeof f === 'string' ? f : f.key));
}

/** Bump when curation output changes for the same input: every file is then re-curated. */
export const CURATION_VERSION = 'curation-5';

export const inlineCurator: Curator = async (req) => curateFile(req);

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
  const ring = deps.keys.pseudonym;
  const bytes = await store.get(input.key);
  const inputHash = sha256Hex(bytes, CURATION_VERSION, ring.activeId, String(input.bucketCount));
  const manifestKey = lake.ingestFileManifest(parts.table, parts.date, parts.fileName);
  const previous = await readJson<FileManifest>(store, manifestKey);
  if (previous?.inputHash === inputHash) return resultOf(previous, 'skipped');

  const base = {
    source: input.key, table: parts.table, ingestDate: parts.date, fileName: parts.fileName, inputHash,
    curationVersion: CURATION_VERSION, pseudonymKeyId: ring.activeId, bucketCount: input.bucketCount,
  };
  const log = deps.logger.child({ ...activityLogFields(), source: input.key });
  heartbeat({ step: 'curate' });
  const outcome = await (deps.curator ?? inlineCurator)({
    bytes, source: input.key, table: parts.table, ingestDate: parts.date, fileName: parts.fileName, bucketCount: input.bucketCount,
    pseudonymKey: { id: ring.activeId, secret: ring.keys.get(ring.activeId)! },
  });
  if (outcome.kind === 'quarantine') {
    const manifest = await quarantineFile(store, base, bytes, outcome);
    await writeJson(store, manifestKey, manifest);
    log.warn('file quarantined', { reasonType: outcome.reasonType });
    return resultOf(manifest, 'quarantined');
  }

  heartbeat({ step: 'write', fragments: outcome.fragments.length });
  // The name is in the hash: rows carry their file's name, so two files of identical bytes on one day differ.
  const hash = sha256Hex(inputHash, parts.fileName).slice(0, 16);
  const fragments: CuratedFragment[] = [];
  for (const f of outcome.fragments) {
    const key = lake.curatedFragment(parts.table, f.bucket, parts.date, hash);
    await store.put(key, f.bytes);
    fragments.push({ bucket: f.bucket, key, rows: f.rows, sha256: sha256Hex(f.bytes) });
  }
  let rejectsKey: string | null = null;
  if (outcome.rejects) {
    rejectsKey = lake.rejects(parts.table, parts.date, hash);
    await store.put(rejectsKey, outcome.rejects);
  }
  const { rowsIn, accepted, corrected, rejected, rejectReasons } = outcome;
  const manifest: FileManifest = { ...base, status: 'ingested', rowsIn, accepted, corrected, rejected, rejectReasons, fragments, rejectsKey };
  await writeJson(store, manifestKey, manifest);
  // A previous curation of this file under other settings left outputs the new ones replace.
  // Staged fragments compaction has not folded yet; folded ones are gone already (deleting is idempotent).
  const written = new Set(fragments.map((f) => f.key));
  for (const stale of [...staleFragmentKeys(previous), previous?.rejectsKey ?? null]) {
    if (stale && !written.has(stale) && stale !== rejectsKey) await store.delete(stale);
  }
  log.info('file ingested', { rowsIn, rejected, corrected, fragments: fragments.length });
  return resultOf(manifest, 'ingested');
}
