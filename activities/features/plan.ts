/**
 * Plans a feature build: which buckets have curated inputs, their input hashes, the dataset
 * version those imply, the lake's data end, and which buckets an earlier version already built
 * from the same inputs (those are copied, not recomputed). The plan is written to the lake and
 * read back a page at a time, so the workflow's payloads stay small at any bucket count.
 */
import { NotFoundError } from '../../core/errors.js';
import { bucketLabel, lake, RAW_TABLES } from '../../data-lake/layout.js';
import type { FeaturePlanSummary, PlannedBucket } from '../../schemas/workflows.js';
import { type ActivityDeps, readJson, sha256Hex, writeJson } from '../context.js';
import type { ObjectStore } from '../io/object-store.js';
import type { FeatureManifest } from './manifest.js';

/** Bump when the features computed from the same curated inputs change. */
export const FEATURE_CODE_VERSION = 'readmission-features-3';

export interface PlanFeatureBuildInput {
  lake: string;
  dataset: string;
  bucketCount: number;
}

export interface SourceManifest {
  key: string;
  sha256: string;
}

export interface FeaturePlan {
  dataset: string;
  version: string;
  featureCodeVersion: string;
  bucketCount: number;
  dataEnd: string;
  buckets: (PlannedBucket & { fragments: number })[];
  /** The per-day ingest manifests of the curated zone the version was planned from. */
  sources: SourceManifest[];
}

const FRAGMENT_RE = /^curated\/([a-z_]+)\/bucket=(\d+)\/ingest_date=(\d{4}-\d{2}-\d{2})\/part-[0-9a-f]+\.parquet$/;
const DAY_MANIFEST_RE = /^manifests\/ingest\/([a-z_]+)\/ingest_date=(\d{4}-\d{2}-\d{2})\.json$/;

/** Runs `fn` over `items`, `limit` at a time, keeping order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

async function ingestSources(store: ObjectStore): Promise<{ sources: SourceManifest[]; encounterDates: string[] }> {
  const keys: string[] = [];
  const encounterDates: string[] = [];
  for await (const obj of store.list('manifests/ingest/')) {
    const m = DAY_MANIFEST_RE.exec(obj.key);
    if (!m) continue;
    keys.push(obj.key);
    if (m[1] === 'encounters') encounterDates.push(m[2]!);
  }
  const sources = await mapConcurrent(keys, 16, async (key) => ({ key, sha256: sha256Hex(await store.get(key)) }));
  return { sources, encounterDates };
}

/** Shards of the dataset's latest complete version, by input hash. */
async function reusableShards(store: ObjectStore, dataset: string): Promise<Map<string, { version: string; key: string }>> {
  const found = new Map<string, { version: string; key: string }>();
  const latest = await readJson<{ version: string }>(store, lake.featureLatest(dataset));
  if (!latest) return found;
  const manifest = await readJson<FeatureManifest>(store, lake.featureManifest(dataset, latest.version));
  for (const shard of manifest?.shards ?? []) found.set(shard.inputHash, { version: latest.version, key: shard.key });
  return found;
}

export async function planFeatures(store: ObjectStore, input: Omit<PlanFeatureBuildInput, 'lake'>): Promise<FeaturePlan> {
  const byBucket = new Map<number, string[]>();
  let dataEnd = '';
  for (const table of RAW_TABLES) {
    for await (const obj of store.list(`curated/${table}/`)) {
      const m = FRAGMENT_RE.exec(obj.key);
      if (!m) continue;
      const bucket = Number(m[2]);
      if (bucket >= input.bucketCount) continue; // written under another bucket count: not this layout
      let keys = byBucket.get(bucket);
      if (!keys) byBucket.set(bucket, (keys = []));
      keys.push(obj.key);
      if (table === 'encounters' && m[3]! > dataEnd) dataEnd = m[3]!;
    }
  }
  const { sources, encounterDates } = await ingestSources(store);
  for (const date of encounterDates) if (date > dataEnd) dataEnd = date;
  const previous = await reusableShards(store, input.dataset);
  const buckets = [...byBucket.entries()].sort(([a], [b]) => a - b).map(([bucket, keys]) => {
    const inputHash = sha256Hex(FEATURE_CODE_VERSION, String(input.bucketCount), dataEnd, bucketLabel(bucket), ...keys.sort());
    const reuse = previous.get(inputHash);
    return { bucket, inputHash, fragments: keys.length, ...(reuse ? { reuse } : {}) };
  });
  const version = `v-${sha256Hex(FEATURE_CODE_VERSION, String(input.bucketCount), dataEnd, ...buckets.map((b) => b.inputHash)).slice(0, 16)}`;
  // A plan never reuses the shards of its own version: those a rerun finds in place.
  for (const b of buckets) if (b.reuse?.version === version) delete b.reuse;
  return { dataset: input.dataset, version, featureCodeVersion: FEATURE_CODE_VERSION, bucketCount: input.bucketCount, dataEnd, buckets, sources };
}

export async function planFeatureBuild(deps: ActivityDeps, input: PlanFeatureBuildInput): Promise<FeaturePlanSummary> {
  const store = deps.lake(input.lake);
  const plan = await planFeatures(store, input);
  await writeJson(store, lake.featurePlan(input.dataset, plan.version), plan);
  return { version: plan.version, dataEnd: plan.dataEnd, buckets: plan.buckets.length, reusable: plan.buckets.filter((b) => b.reuse).length };
}

export interface ReadFeaturePlanPageInput {
  lake: string;
  dataset: string;
  version: string;
  offset: number;
  limit: number;
}

export async function readFeaturePlanPage(deps: ActivityDeps, input: ReadFeaturePlanPageInput): Promise<PlannedBucket[]> {
  const plan = await readPlan(deps.lake(input.lake), input.dataset, input.version);
  return plan.buckets.slice(input.offset, input.offset + input.limit).map(({ bucket, inputHash, reuse }) => ({ bucket, inputHash, ...(reuse ? { reuse } : {}) }));
}

export async function readPlan(store: ObjectStore, dataset: string, version: string): Promise<FeaturePlan> {
  const plan = await readJson<FeaturePlan>(store, lake.featurePlan(dataset, version));
  if (!plan) throw new NotFoundError(`features: no plan at ${lake.featurePlan(dataset, version)}`);
  return plan;
}
