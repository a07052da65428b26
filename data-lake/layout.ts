/**
 * The lake's layout conventions (docs/architecture.md, "The lake"). Every key the pipeline reads or writes
 * is built here, relative to the lake root. Workflow-safe: pure string functions.
 */

export const RAW_TABLES = ['patients', 'encounters', 'diagnoses', 'lab_results'] as const;
export type RawTable = (typeof RAW_TABLES)[number];

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isIngestDate(value: string): boolean {
  if (!DATE_RE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function bucketLabel(bucket: number): string {
  return String(bucket).padStart(3, '0');
}

export const lake = {
  rawPrefix: (table: RawTable) => `raw/${table}/`,
  rawDatePrefix: (table: RawTable, date: string) => `raw/${table}/ingest_date=${date}/`,
  curatedFragment: (table: RawTable, bucket: number, date: string, hash: string) =>
    `curated/${table}/bucket=${bucketLabel(bucket)}/ingest_date=${date}/part-${hash}.parquet`,
  curatedBucketPrefix: (table: RawTable, bucket: number) => `curated/${table}/bucket=${bucketLabel(bucket)}/`,
  /** A compacted generation of a table's bucket: every row of the files its record lists (content-addressed). */
  curatedGeneration: (table: RawTable, bucket: number, generation: string) => `curated/${table}/bucket=${bucketLabel(bucket)}/gen-${generation}.parquet`,
  /** The bucket's generation record: which generation is current, and which files it holds. Replaced by conditional writes. */
  curatedRecord: (table: RawTable, bucket: number) => `curated/${table}/bucket=${bucketLabel(bucket)}/_current.json`,
  /** Which day manifests the curated generations reflect (their etags and hashes). */
  compactionState: () => 'manifests/compaction/state.json',
  compactionPlanPrefix: (plan: string) => `manifests/compaction/plans/${plan}/`,
  compactionPlan: (plan: string) => `manifests/compaction/plans/${plan}/plan.json`,
  compactionPlanBucket: (plan: string, bucket: number) => `manifests/compaction/plans/${plan}/bucket=${bucketLabel(bucket)}.json`,
  rejects: (table: RawTable, date: string, hash: string) => `rejects/${table}/ingest_date=${date}/part-${hash}.parquet`,
  quarantine: (table: RawTable, date: string, fileName: string) => `quarantine/${table}/ingest_date=${date}/${fileName}`,
  quarantineReason: (table: RawTable, date: string, fileName: string) => `quarantine/${table}/ingest_date=${date}/${fileName}.reason.json`,
  ingestFileManifest: (table: RawTable, date: string, fileName: string) => `manifests/ingest/${table}/ingest_date=${date}/files/${fileName}.json`,
  ingestManifest: (table: RawTable, date: string) => `manifests/ingest/${table}/ingest_date=${date}.json`,
  featureShard: (dataset: string, version: string, bucket: number) => `features/${dataset}/${version}/bucket=${bucketLabel(bucket)}.parquet`,
  featureManifest: (dataset: string, version: string) => `features/${dataset}/${version}/manifest.json`,
  featureVersionPrefix: (dataset: string, version: string) => `features/${dataset}/${version}/`,
  featurePlan: (dataset: string, version: string) => `features/${dataset}/${version}/plan.json`,
  /** One bucket's part of the plan: the curated fragments its shard reads, in the order it reads them. */
  featurePlanBucket: (dataset: string, version: string, bucket: number) => `features/${dataset}/${version}/plan/bucket=${bucketLabel(bucket)}.json`,
  /** The dataset's most recently completed version: where the next build looks for shards to reuse. */
  featureLatest: (dataset: string) => `features/${dataset}/latest.json`,
  /** Reports about a feature version: profile.html/profile.json and the explore partials under partials/. */
  reportsPrefix: (dataset: string, version: string) => `reports/${dataset}/${version}/`,
  /** Partial statistics and the fitted pipeline of one train/test split of a version. */
  featureFitPrefix: (dataset: string, version: string, split: string) => `features/${dataset}/${version}/fit/${split}/`,
  registryVersion: (model: string, version: string) => `registry/${model}/${version}/`,
  registryFile: (model: string, version: string, file: RegistryFile) => `registry/${model}/${version}/${file}`,
  registryModelPrefix: (model: string) => `registry/${model}/`,
  /** Training checkpoints: outside registry/, deleted once the version is complete. */
  checkpoint: (model: string, version: string) => `checkpoints/${model}/${version}/latest.json`,
  alias: (model: string, alias: string) => `registry/${model}/aliases/${alias}.json`,
  audit: (stream: string, seq: number) => `audit/${stream}/${String(seq).padStart(12, '0')}.json`,
  groundTruth: (name: string) => `ground-truth/${name}`,
  /** Batch scores of a feature dataset version by one model version (scoreWorkflow): one file per bucket, a sidecar, a manifest. */
  scoresPrefix: (model: string, version: string, datasetVersion: string) => `scores/${model}/${version}/${datasetVersion}/`,
  scoreShard: (model: string, version: string, datasetVersion: string, bucket: number) =>
    `scores/${model}/${version}/${datasetVersion}/bucket=${bucketLabel(bucket)}.parquet`,
  scoreManifest: (model: string, version: string, datasetVersion: string) => `scores/${model}/${version}/${datasetVersion}/manifest.json`,
};

/**
 * Zones holding patient-level data: raw/ and quarantine/ identified, curated/ and rejects/
 * pseudonymised. Written to S3 only where the server confirms server-side encryption (s3-store.ts).
 */
export const PHI_ZONES = ['raw/', 'quarantine/', 'curated/', 'rejects/'] as const;
export const isPhiKey = (key: string): boolean => PHI_ZONES.some((z) => key.startsWith(z));

/** `manifests/ingest/<table>/ingest_date=D/files/<file>.json`: table and date in groups 1 and 2. */
/** `manifests/ingest/<table>/ingest_date=D.json`: table and date in groups 1 and 2. */
export const INGEST_DAY_MANIFEST_RE = /^manifests\/ingest\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\.json$/;

/** `curated/<table>/bucket=BBB/ingest_date=D/part-<h>.parquet`, a staging fragment: table, bucket, date. */
export const CURATED_FRAGMENT_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/part-[0-9a-f]+\.parquet$/;

export const INGEST_FILE_MANIFEST_RE = /^manifests\/ingest\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/files\/.+\.json$/;

export type RegistryFile =
  'model.json' | 'preprocessing_pipeline.json' | 'feature_mapping.json' | 'model_metadata.yaml' | 'report.html' | 'predictions.parquet';

/**
 * A short stable tag for a raw file, for activity ids: `<table>/<date>/<hash of the key>`. File
 * names come from producers and may say more than they should, so they stay out of ids, which
 * the Temporal server stores in clear. Workflow-safe: FNV-1a, no crypto.
 */
export function rawFileTag(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  const parts = parseRawKey(key);
  const hash = (h >>> 0).toString(16).padStart(8, '0');
  return parts ? `${parts.table}/${parts.date}/${hash}` : hash;
}

/** Parses `raw/<table>/ingest_date=D/<name>` back into its parts, or undefined if it is not a raw key. */
export function parseRawKey(key: string): { table: RawTable; date: string; fileName: string } | undefined {
  const m = /^raw\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const [, table, date, fileName] = m;
  if (!table || !date || !fileName) return undefined;
  if (!(RAW_TABLES as readonly string[]).includes(table)) return undefined;
  return { table: table as RawTable, date, fileName };
}
