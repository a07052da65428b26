/**
 * A generated lake ingested in-process (no Temporal): the curated zone the feature build reads,
 * in a file:// lake or a test bucket, with deterministic keys. For feature tests that check
 * values rather than orchestration.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActivityDeps, sha256Hex } from '../../activities/context.js';
import { compactLake } from '../../activities/curated/local-compact.js';
import { writeIngestManifests } from '../../activities/ingest/day-manifests.js';
import { ingestFiles } from '../../activities/ingest/ingest-file.js';
import { mapBounded } from '../../core/map-bounded.js';
import { listRawFiles } from '../../activities/ingest/list-raw.js';
import type { CuratedFragment, FileManifest } from '../../activities/ingest/outputs.js';
import { CURATED_PARQUET } from '../../activities/curated/parquet-format.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { type Keys, type KeyRing, parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createDeps } from '../../cli/deps.js';
import { lake } from '../../data-lake/layout.js';

function ring(id: string): KeyRing {
  return { activeId: id, keys: new Map([[id, createHash('sha256').update(`carepipe test key ${id}`).digest()]]), source: 'test keys' };
}

/** Deps over a fresh file:// lake (or the given URI) with fixed test keys (the pseudonym key's id may be chosen). */
export function localLake(name: string, uri?: string, pseudonymKeyId = 'pseudo-1'): { deps: ActivityDeps & { close(): void }; lakeUri: string; dir: string } {
  const dir = uri ? '' : mkdtempSync(join(tmpdir(), `carepipe-${name}-`));
  const lakeUri = uri ?? `file://${dir}`;
  const config = parseConfig({ CAREPIPE_LAKE: lakeUri });
  const keys: Keys = { codec: ring('codec-1'), pseudonym: ring(pseudonymKeyId) };
  return { deps: createDeps(config, keys, createLogger('warn', { test: name })), lakeUri, dir };
}

/**
 * Ingests every raw file of the lake (skipping those already ingested), writes the day manifests
 * and, as ingestWorkflow does, compacts the curated zone (unless `compact` is false).
 */
export async function ingestAll(deps: ActivityDeps, lakeUri: string, bucketCount: number, options: { compact?: boolean } = {}): Promise<void> {
  let startAfter = '';
  for (;;) {
    const page = await listRawFiles(deps, { lake: lakeUri, startAfter, limit: 500, bucketCount });
    // As ingestWorkflow batches them: up to 16 consecutive files of one table a task, a few tasks at once.
    const batches: string[][] = [];
    for (const key of page.keys) {
      const last = batches[batches.length - 1];
      if (last && last.length < 16 && last[0]!.split('/')[1] === key.split('/')[1]) last.push(key);
      else batches.push([key]);
    }
    await mapBounded(batches, 2, (keys) => ingestFiles(deps, { lake: lakeUri, keys, bucketCount }));
    if (page.nextStartAfter === undefined) break;
    startAfter = page.nextStartAfter;
  }
  await writeIngestManifests(deps, { lake: lakeUri });
  if (options.compact !== false) await compactLake(deps.lake(lakeUri), { bucketCount, pseudonymKeyId: deps.keys.pseudonym.activeId });
}

/**
 * Splits every ingested file of a curated zone into files of at most `rowsPerPiece` rows of each
 * bucket, on the same ingest date, as a producer sending many small files would: each piece gets
 * its own per-file manifest and its own per-bucket fragments (row ranges of the original
 * fragments, written by the real Parquet writer), and the originals are deleted. The rows, and so
 * the features, stay the same; only the number of fragments a bucket reads grows (a year of daily
 * files is over a thousand a bucket). Rows keep their `source_file`: pieces of one file hold
 * disjoint keys, so no tie between them needs it. Returns the fragments written.
 */
export async function splitCuratedFiles(store: ObjectStore, rowsPerPiece: number): Promise<number> {
  const manifests: string[] = [];
  for await (const obj of store.list('manifests/ingest/')) if (/\/files\/[^/]+\.json$/.test(obj.key)) manifests.push(obj.key);
  let written = 0;
  const replaced = new Set<string>();
  for (const key of manifests) {
    const m = JSON.parse(new TextDecoder().decode(await store.get(key))) as FileManifest;
    if (m.status !== 'ingested') continue;
    // A batch's fragment holds several files' rows: this file's are [offset, offset + rows).
    const parts = await Promise.all(
      m.fragments.map(async (fragment) => ({
        bucket: fragment.bucket,
        table: readParquet(await store.get(fragment.key), { source: fragment.key }).slice(fragment.offset ?? 0, (fragment.offset ?? 0) + fragment.rows),
      })),
    );
    const pieces = Math.max(1, ...parts.map((p) => Math.ceil(p.table.numRows / rowsPerPiece)));
    const stem = m.fileName.replace(/\.parquet$/, '');
    for (let from = 0; from < pieces; from += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, pieces - from) }, async (_, k) => {
          const j = from + k;
          const inputHash = sha256Hex(m.inputHash, String(j));
          const fragments: CuratedFragment[] = [];
          for (const { bucket, table } of parts) {
            if (j * rowsPerPiece >= table.numRows) continue;
            const key = lake.curatedFragment(m.table, bucket, m.ingestDate, inputHash.slice(0, 16));
            const rows = table.slice(j * rowsPerPiece, Math.min(table.numRows, (j + 1) * rowsPerPiece));
            const bytes = writeParquet(rows, CURATED_PARQUET);
            await store.put(key, bytes);
            fragments.push({ bucket, key, rows: rows.numRows, sha256: sha256Hex(bytes) });
          }
          // `<stem>.pNNNN.parquet` sorts among the day's other files as `<stem>.parquet` did: the contract's order is kept.
          const fileName = `${stem}.p${String(j).padStart(4, '0')}.parquet`;
          const piece: FileManifest = {
            ...m,
            fileName,
            source: `raw/${m.table}/ingest_date=${m.ingestDate}/${fileName}`,
            inputHash,
            fragments,
            ...(j === 0 ? {} : { rowsIn: 0, accepted: 0, corrected: 0, rejected: 0, rejectReasons: {}, rejectsKey: null }),
          };
          await store.put(lake.ingestFileManifest(m.table, m.ingestDate, fileName), JSON.stringify(piece));
          written += fragments.length;
        }),
      );
    }
    await store.delete(key);
    for (const fragment of m.fragments) replaced.add(fragment.key);
  }
  // After every file is split: a batch's fragment is shared by files split later.
  for (const key of replaced) await store.delete(key);
  return written;
}
