/**
 * Plans a feature build from the compacted curated zone: per bucket, the generation of each table
 * its records name (a content hash of the files it holds), the input hash those imply, the
 * dataset version, the data end, and which buckets an earlier version already built from the same
 * generations (those are copied, not recomputed). The compaction state says which ingest days the
 * generations reflect: the data end is the latest of those for encounters, and the version cites
 * their manifests. The plan is written to the lake: `plan.json` (small, read back a page at a
 * time by the workflow) and one `plan/bucket=BBB.json` per bucket with its generation keys, which
 * only that bucket's shard reads. featuresWorkflow compacts first, so nothing ingested is left out.
 */
import { NotFoundError, InvalidInputError } from '../../core/errors.js';
import { bucketLabel, INGEST_DAY_MANIFEST_RE, lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { FeaturePlanSummary, PlannedBucket } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, activityPace, type Pace, readJson, sha256Hex, writeJson } from '../context.js';
import { mapBounded } from '../../core/map-bounded.js';
import { readCompactionState } from '../curated/compaction-state.js';
import { type GenerationRecord, readBucketRecords } from '../curated/records.js';
import type { ObjectStore } from '../io/object-store.js';
import { tally } from '../curated/tally.js';
import type { FeatureManifest, SourceManifest } from './manifest-format.js';

/** Bump when the features computed from the same curated inputs change. */
export const FEATURE_CODE_VERSION = 'readmission-features-3';

export interface PlanFeatureBuildInput {
  lake: string;
  dataset: string;
  bucketCount: number;
}

export interface FeaturePlan {
  dataset: string;
  version: string;
  featureCodeVersion: string;
  bucketCount: number;
  dataEnd: string;
  buckets: (PlannedBucket & { rows: number })[];
  /** The per-day ingest manifests of the curated zone the version was planned from. */
  sources: SourceManifest[];
}

/** One bucket's part of the plan (`plan/bucket=BBB.json`): what its shard reads. */
export interface BucketPlan {
  bucket: number;
  inputHash: string;
  /** Per table, the generation files to read (one, or none when the bucket has no rows of it). */
  parts: Record<RawTable, string[]>;
}

export interface PlanOptions {
  dataset: string;
  bucketCount: number;
  /** The pseudonym key id ingest would use now, named in the message refusing a mixed zone. */
  currentKeyId?: string;
  pace?: Pace;
}

export interface PlannedBuild {
  plan: FeaturePlan;
  bucketPlans: BucketPlan[];
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

/**
 * Refuses generations of mixed settings: a patient's rows would sit under two pseudonyms or in
 * two buckets, and the features would silently split histories. Non-retryable; the message says
 * how to rebuild.
 */
function checkRecords(records: readonly GenerationRecord[], bucketCount: number, lakeUri: string, currentKeyId?: string): void {
  const keys = tally(records.map((r) => r.pseudonymKeyId));
  const counts = tally(records.map((r) => String(r.bucketCount)));
  const problems: string[] = [];
  if (keys.length > 1) problems.push(`it mixes pseudonym keys (generations ${keys.map(([id, n]) => `under key id ${id}: ${n}`).join(', ')})`);
  if (counts.some(([n]) => Number(n) !== bucketCount)) {
    problems.push(
      `it was curated into other bucket counts than this build's ${bucketCount} (generations ${counts.map(([b, n]) => `with ${b} buckets: ${n}`).join(', ')})`,
    );
  }
  if (problems.length === 0) return;
  const key = currentKeyId ? `CAREPIPE_PSEUDONYM_KEY_ID=${currentKeyId}` : 'the current pseudonym key';
  throw new InvalidInputError(
    `features: cannot plan from the curated zone: ${problems.join('; ')}. Re-run \`carepipe ingest --lake ${lakeUri} --buckets ${bucketCount}\` ` +
      `with ${key} to re-curate every file under one key and bucket count, then build the features again.`,
  );
}

export async function planFeatures(store: ObjectStore, options: PlanOptions): Promise<PlannedBuild> {
  const pace = options.pace ?? activityPace(() => ({ step: 'plan' }));
  const state = await readCompactionState(store);
  const days = Object.entries(state?.days ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  // The lake is complete before its latest compacted ingest date of encounters, whatever its files held.
  let dataEnd = '';
  const sources: SourceManifest[] = [];
  for (const [key, { sha256 }] of days) {
    const m = INGEST_DAY_MANIFEST_RE.exec(key);
    if (m?.[1] === 'encounters' && m[2]! > dataEnd) dataEnd = m[2]!;
    sources.push({ key, sha256 });
  }
  const byBucket = await mapBounded(
    Array.from({ length: options.bucketCount }, (_, b) => b),
    8,
    async (bucket) => {
      const records = await readBucketRecords(store, bucket);
      await pace();
      return { bucket, records };
    },
  );
  checkRecords(
    byBucket.flatMap((b) => RAW_TABLES.map((t) => b.records[t]).filter((r): r is GenerationRecord => r !== null)),
    options.bucketCount,
    store.uri,
    options.currentKeyId,
  );

  const previous = await reusableShards(store, options.dataset);
  const bucketPlans: BucketPlan[] = [];
  const buckets: FeaturePlan['buckets'] = [];
  for (const { bucket, records } of byBucket) {
    const parts = Object.fromEntries(RAW_TABLES.map((t) => [t, records[t]?.key ? [records[t].key] : []])) as Record<RawTable, string[]>;
    if (RAW_TABLES.every((t) => parts[t].length === 0)) continue;
    // Generations are content-addressed: the same files of a bucket give the same hash.
    const inputHash = sha256Hex(
      FEATURE_CODE_VERSION,
      String(options.bucketCount),
      dataEnd,
      bucketLabel(bucket),
      ...RAW_TABLES.map((t) => records[t]?.generation ?? '-'),
    );
    bucketPlans.push({ bucket, inputHash, parts });
    const reuse = previous.get(inputHash);
    buckets.push({ bucket, inputHash, rows: RAW_TABLES.reduce((n, t) => n + (records[t]?.rows ?? 0), 0), ...(reuse ? { reuse } : {}) });
  }
  const version = `v-${sha256Hex(FEATURE_CODE_VERSION, String(options.bucketCount), dataEnd, ...buckets.map((b) => b.inputHash)).slice(0, 16)}`;
  // A plan never reuses the shards of its own version: those a rerun finds in place.
  for (const b of buckets) if (b.reuse?.version === version) delete b.reuse;
  const plan: FeaturePlan = {
    dataset: options.dataset,
    version,
    featureCodeVersion: FEATURE_CODE_VERSION,
    bucketCount: options.bucketCount,
    dataEnd,
    buckets,
    sources,
  };
  return { plan, bucketPlans };
}

/** Writes the buckets' plans, then `plan.json` last: its presence means the plan is complete. */
export async function writePlan(
  store: ObjectStore,
  { plan, bucketPlans }: PlannedBuild,
  pace: Pace = activityPace(() => ({ step: 'write plan' })),
): Promise<void> {
  await mapBounded(bucketPlans, 16, async (b) => {
    await writeJson(store, lake.featurePlanBucket(plan.dataset, plan.version, b.bucket), b);
    await pace();
  });
  await writeJson(store, lake.featurePlan(plan.dataset, plan.version), plan);
}

export async function planFeatureBuild(deps: ActivityDeps, input: PlanFeatureBuildInput): Promise<FeaturePlanSummary> {
  const store = deps.lake(input.lake);
  const planned = await planFeatures(store, { dataset: input.dataset, bucketCount: input.bucketCount, currentKeyId: deps.keys.pseudonym.activeId });
  await writePlan(store, planned);
  const { plan } = planned;
  deps.logger.info('feature plan', {
    ...activityLogFields(),
    version: plan.version,
    buckets: plan.buckets.length,
    rows: plan.buckets.reduce((s, b) => s + b.rows, 0),
  });
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
  return plan.buckets
    .slice(input.offset, input.offset + input.limit)
    .map(({ bucket, inputHash, reuse }) => ({ bucket, inputHash, ...(reuse ? { reuse } : {}) }));
}

export async function readPlan(store: ObjectStore, dataset: string, version: string): Promise<FeaturePlan> {
  const plan = await readJson<FeaturePlan>(store, lake.featurePlan(dataset, version));
  if (!plan) throw new NotFoundError(`features: no plan at ${lake.featurePlan(dataset, version)}`);
  return plan;
}

/** A bucket's plan, checked against the input hash the workflow planned it with. */
export async function readBucketPlan(store: ObjectStore, dataset: string, version: string, bucket: number, inputHash: string): Promise<BucketPlan> {
  const key = lake.featurePlanBucket(dataset, version, bucket);
  const planned = await readJson<BucketPlan>(store, key);
  if (!planned) throw new NotFoundError(`features: no plan at ${key}`);
  if (planned.inputHash !== inputHash) throw new InvalidInputError(`features: the plan at ${key} is for other inputs than the shard being built`);
  return planned;
}
