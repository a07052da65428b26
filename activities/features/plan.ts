/**
 * Plans a feature build from the ingest manifests, not from a listing: which buckets have curated
 * inputs and exactly which fragments (those the per-file manifests name, in the contract's order),
 * their input hashes, the dataset version those imply, the lake's data end, and which buckets an
 * earlier version already built from the same inputs (those are copied, not recomputed). The
 * plan is written to the lake: `plan.json` (small, read back a page at a time by the workflow)
 * and one `plan/bucket=BBB.json` per bucket with its fragment keys, which only that bucket's
 * shard reads. Fragments no manifest names are never read; old ones are deleted here.
 */
import { NotFoundError, InvalidInputError } from '../../core/errors.js';
import { bucketLabel, lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { FeaturePlanSummary, PlannedBucket } from '../../schemas/workflows.js';
import { type ActivityDeps, activityLogFields, activityPace, type Pace, readJson, sha256Hex, writeJson } from '../context.js';
import { mapBounded } from '../../core/map-bounded.js';
import type { ObjectStore } from '../io/object-store.js';
import {
  checkCuratedZone, contractOrder, type FragmentRef, listIngestManifests, namedFragments, ORPHAN_GRACE_MS, readFileManifests,
  type SweepResult, sweepOrphanFragments,
} from './curated-inputs.js';
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
  buckets: (PlannedBucket & { fragments: number })[];
  /** The per-day ingest manifests of the curated zone the version was planned from. */
  sources: SourceManifest[];
}

/** One bucket's part of the plan (`plan/bucket=BBB.json`): what its shard reads. */
export interface BucketPlan {
  bucket: number;
  inputHash: string;
  /** Per table, the curated fragment keys in the contract's order: ingest date, then file name. */
  fragments: Record<RawTable, string[]>;
}

export interface PlanOptions {
  dataset: string;
  bucketCount: number;
  /** The pseudonym key id ingest would use now, named in the message refusing a mixed zone. */
  currentKeyId?: string;
  /** Unnamed fragments older than this are deleted (default ORPHAN_GRACE_MS). */
  orphanGraceMs?: number;
  pace?: Pace;
}

export interface PlannedBuild {
  plan: FeaturePlan;
  bucketPlans: BucketPlan[];
  orphans: SweepResult;
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

const noTables = (): Record<RawTable, string[]> => Object.fromEntries(RAW_TABLES.map((t) => [t, []])) as unknown as Record<RawTable, string[]>;

export async function planFeatures(store: ObjectStore, options: PlanOptions): Promise<PlannedBuild> {
  const pace = options.pace ?? activityPace(() => ({ step: 'plan' }));
  const listed = await listIngestManifests(store, pace);
  const manifests = await readFileManifests(store, listed.files, pace);
  checkCuratedZone(manifests, options.bucketCount, store.uri, options.currentKeyId);
  const fragments = namedFragments(manifests);
  const orphans = await sweepOrphanFragments(store, new Set(fragments.map((f) => f.key)), Date.now() - (options.orphanGraceMs ?? ORPHAN_GRACE_MS), pace);

  // The lake is complete before its latest ingest date of encounters, whatever its files held.
  let dataEnd = '';
  for (const m of manifests) if (m.table === 'encounters' && m.ingestDate > dataEnd) dataEnd = m.ingestDate;
  for (const d of listed.days) if (d.table === 'encounters' && d.ingestDate > dataEnd) dataEnd = d.ingestDate;
  const sources = await mapBounded(listed.days, 16, async ({ key }) => {
    const sha256 = sha256Hex(await store.get(key));
    await pace();
    return { key, sha256 };
  });

  const byBucket = new Map<number, FragmentRef[]>();
  for (const f of fragments) {
    let refs = byBucket.get(f.bucket);
    if (!refs) byBucket.set(f.bucket, (refs = []));
    refs.push(f);
  }
  const previous = await reusableShards(store, options.dataset);
  const bucketPlans: BucketPlan[] = [];
  const buckets = [...byBucket.entries()].sort(([a], [b]) => a - b).map(([bucket, refs]) => {
    const ordered = refs.sort(contractOrder);
    const planned = noTables();
    for (const f of ordered) planned[f.table].push(f.key);
    // Of the keys as a set (content hashes): the hash says which inputs, the plan says in what order.
    const inputHash = sha256Hex(FEATURE_CODE_VERSION, String(options.bucketCount), dataEnd, bucketLabel(bucket), ...ordered.map((f) => f.key).sort());
    bucketPlans.push({ bucket, inputHash, fragments: planned });
    const reuse = previous.get(inputHash);
    return { bucket, inputHash, fragments: ordered.length, ...(reuse ? { reuse } : {}) };
  });
  const version = `v-${sha256Hex(FEATURE_CODE_VERSION, String(options.bucketCount), dataEnd, ...buckets.map((b) => b.inputHash)).slice(0, 16)}`;
  // A plan never reuses the shards of its own version: those a rerun finds in place.
  for (const b of buckets) if (b.reuse?.version === version) delete b.reuse;
  const plan: FeaturePlan = {
    dataset: options.dataset, version, featureCodeVersion: FEATURE_CODE_VERSION, bucketCount: options.bucketCount, dataEnd, buckets, sources,
  };
  return { plan, bucketPlans, orphans };
}

/** Writes the buckets' plans, then `plan.json` last: its presence means the plan is complete. */
export async function writePlan(store: ObjectStore, { plan, bucketPlans }: PlannedBuild, pace: Pace = activityPace(() => ({ step: 'write plan' }))): Promise<void> {
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
  const { plan, orphans } = planned;
  deps.logger.info('feature plan', {
    ...activityLogFields(), version: plan.version, buckets: plan.buckets.length, fragments: plan.buckets.reduce((s, b) => s + b.fragments, 0),
    orphansDeleted: orphans.deleted, orphansPending: orphans.pending,
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
  return plan.buckets.slice(input.offset, input.offset + input.limit).map(({ bucket, inputHash, reuse }) => ({ bucket, inputHash, ...(reuse ? { reuse } : {}) }));
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
