/**
 * What a run leaves that must not depend on faults: every object of curated/, features/,
 * manifests/, rejects/ and quarantine/ by key and content hash; per model family the model
 * files (model.json, the preprocessing pipeline, the feature mapping, the held-out predictions)
 * by content hash; and the metrics of its metadata. Model versions carry the run's start time,
 * so registry keys are compared by family, and metadata by its metrics (it also records times).
 * The feature dataset's `manifest.json` and `latest.json` record when they were written
 * (`createdAt`): they are compared without that one field, every other byte as written.
 *
 * Two kinds of bookkeeping are left out, because a killed ingest attempt legitimately changes
 * them without changing any output: staged fragments (`curated/<t>/bucket=B/ingest_date=D/part-*`,
 * which compaction folds into the generations and finishCompaction sweeps once older than the
 * grace period, so an attempt that died before its manifests leaves one for up to two hours), and
 * per-file ingest manifests (which name the fragment of the batch a file travelled in: the retry
 * of a killed batch skips the files already recorded, so the rest travel in a smaller batch).
 * The day manifests, the compaction state and every generation are still compared byte for byte.
 */
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import type { ObjectStore } from '../../activities/io/object-store.js';

export type RunOutputs = Map<string, string>;

const ZONES = ['curated/', 'features/', 'manifests/', 'rejects/', 'quarantine/'];
const MODEL_FILES = new Set(['model.json', 'preprocessing_pipeline.json', 'feature_mapping.json', 'predictions.parquet']);
/** `registry/<model>/<stamp>-<family>/<file>` */
const REGISTRY_FILE = /^registry\/[^/]+\/[^/]+-([a-z]+)\/([^/]+)$/;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `features/<dataset>/latest.json` and `features/<dataset>/<version>/manifest.json` */
const STAMPED = /^features\/[^/]+\/(latest\.json|[^/]+\/manifest\.json)$/;

/** The object's hash; for a stamped record, of its JSON without `createdAt`. */
function contentHash(key: string, bytes: Uint8Array): string {
  if (!STAMPED.test(key)) return sha256(bytes);
  const record = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  delete record.createdAt;
  return sha256(new TextEncoder().encode(JSON.stringify(record)));
}

const BATCH_BOOKKEEPING = [/^curated\/[a-z_]+\/bucket=\d+\/ingest_date=[^/]+\/part-[^/]+\.parquet$/, /^manifests\/ingest\/[a-z_]+\/ingest_date=[^/]+\/files\//];

export async function outputsOf(store: ObjectStore): Promise<RunOutputs> {
  const out: RunOutputs = new Map();
  for (const zone of ZONES) {
    for await (const o of store.list(zone)) if (!BATCH_BOOKKEEPING.some((re) => re.test(o.key))) out.set(o.key, contentHash(o.key, await store.get(o.key)));
  }
  for await (const o of store.list('registry/')) {
    const m = REGISTRY_FILE.exec(o.key);
    if (!m) continue;
    const [, family, file] = m as unknown as [string, string, string];
    if (MODEL_FILES.has(file)) out.set(`registry/${family}/${file}`, sha256(await store.get(o.key)));
    if (file === 'model_metadata.yaml') {
      const meta = parse(new TextDecoder().decode(await store.get(o.key))) as { metrics?: unknown; subgroupMetrics?: unknown };
      out.set(`registry/${family}/metrics`, JSON.stringify({ metrics: meta.metrics, subgroupMetrics: meta.subgroupMetrics }));
    }
  }
  return out;
}

/** One line per key missing, extra or different in `run` (empty: identical). */
export function compareOutputs(clean: RunOutputs, run: RunOutputs): string[] {
  const diffs: string[] = [];
  for (const [key, value] of clean) {
    if (!run.has(key)) diffs.push(`missing ${key}`);
    else if (run.get(key) !== value) diffs.push(`differs ${key}`);
  }
  for (const key of run.keys()) if (!clean.has(key)) diffs.push(`extra ${key}`);
  return diffs.sort();
}
