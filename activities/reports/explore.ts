/**
 * The dataset profile as activities (`carepipe explore`, exploreWorkflow): `profileFeatureShard`
 * writes one shard's partial statistics under reports/<dataset>/<version>/partials/, and
 * `writeDatasetProfile` merges them and writes profile.json and profile.html beside them. The
 * labelled stays (full follow-up) are profiled, as the model sees them. A rerun finds a shard's
 * partial by the shard's input hash and skips it.
 */
import { InvalidInputError } from '../../core/errors.js';
import { mapBounded } from '../../core/map-bounded.js';
import { bucketLabel, lake } from '../../data-lake/layout.js';
import { type ActivityDeps, activityLogFields, heartbeat, readJson, writeJson } from '../context.js';
import { type ShardStats, shardStatsKey } from '../features/build-shard.js';
import type { FeatureManifest } from '../features/manifest-format.js';
import { CENSORED_COLUMN } from '../features/schema.js';
import type { ObjectStore } from '../io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../io/parquet.js';
import { timestampColumnToMillis } from '../io/parquet-columns.js';
import { labelledRows } from '../train/feature-set.js';
import { renderProfile } from './profile-html.js';
import { type DatasetProfile, finishProfile, mergeProfiles, type ProfilePartial, profilePartial } from './profile-stats.js';

/** Bump when partials change meaning. */
export const PROFILE_CODE_VERSION = 'profile-1';

export interface ExploreInput {
  lake: string;
  dataset: string;
  version: string;
}
export interface ProfileShardInput extends ExploreInput {
  bucket: number;
}
export interface ProfileResult {
  profileHtmlKey: string;
  profileJsonKey: string;
  rows: number;
  features: number;
  htmlBytes: number;
}

interface StoredPartial {
  code: string;
  shardInputHash: string;
  partial: ProfilePartial;
}

export const profileKeys = (dataset: string, version: string) => {
  const prefix = lake.reportsPrefix(dataset, version);
  return {
    partial: (bucket: number) => `${prefix}partials/bucket=${bucketLabel(bucket)}.json`,
    html: `${prefix}profile.html`,
    json: `${prefix}profile.json`,
  };
};

/** One shard's partial over its labelled stays; the period of a stay is its discharge month (UTC). */
export async function shardProfile(store: ObjectStore, shardKey: string): Promise<ProfilePartial> {
  const table = readParquet(await store.get(shardKey), { source: shardKey });
  const set = labelledRows(table);
  const censoredVector = table.getChild(CENSORED_COLUMN);
  const censored = censoredVector ? intOrFloatToFloat64(censoredVector, CENSORED_COLUMN) : new Float64Array(table.numRows);
  const dischargeVector = table.getChild('discharge_time');
  const discharge = dischargeVector ? timestampColumnToMillis(dischargeVector, 'discharge_time') : new Float64Array(table.numRows).fill(NaN);
  const periods: (string | null)[] = [];
  for (let i = 0; i < table.numRows; i++) {
    if (censored[i] === 1) continue;
    periods.push(Number.isNaN(discharge[i]!) ? null : new Date(discharge[i]!).toISOString().slice(0, 7));
  }
  return profilePartial(
    set.columns,
    set.labels,
    set.encounterIds.map((id, r) => id ?? `row-${r}`),
    periods,
  );
}

export async function profileFeatureShard(deps: ActivityDeps, input: ProfileShardInput): Promise<{ bucket: number; rows: number }> {
  const store = deps.lake(input.lake);
  const shardKey = lake.featureShard(input.dataset, input.version, input.bucket);
  const shard = await readJson<ShardStats>(store, shardStatsKey(shardKey));
  if (!shard) throw new InvalidInputError(`explore: ${input.dataset}@${input.version} has no complete shard for bucket ${input.bucket}`);
  const key = profileKeys(input.dataset, input.version).partial(input.bucket);
  const done = await readJson<StoredPartial>(store, key);
  if (done && done.code === PROFILE_CODE_VERSION && done.shardInputHash === shard.inputHash) return { bucket: input.bucket, rows: done.partial.rows };
  heartbeat({ step: 'profile', bucket: input.bucket });
  const partial = await shardProfile(store, shardKey);
  await writeJson(store, key, { code: PROFILE_CODE_VERSION, shardInputHash: shard.inputHash, partial } satisfies StoredPartial);
  return { bucket: input.bucket, rows: partial.rows };
}

/** Merges every shard's partial (all must be there) and writes profile.json and profile.html. */
export async function storeDatasetProfile(store: ObjectStore, input: Omit<ExploreInput, 'lake'>): Promise<ProfileResult & { profile: DatasetProfile }> {
  const manifest = await readJson<FeatureManifest>(store, lake.featureManifest(input.dataset, input.version));
  if (!manifest) throw new InvalidInputError(`explore: no manifest for ${input.dataset}@${input.version}; build the features first`);
  const keys = profileKeys(input.dataset, input.version);
  const partials = await mapBounded(manifest.shards, 16, async (s) => {
    const stored = await readJson<StoredPartial>(store, keys.partial(s.bucket));
    if (!stored || stored.code !== PROFILE_CODE_VERSION || stored.shardInputHash !== s.inputHash) {
      throw new InvalidInputError(`explore: the partial of bucket ${s.bucket} is missing or stale; profile every shard before merging`);
    }
    return stored.partial;
  });
  const profile = finishProfile(mergeProfiles(partials));
  const html = await renderProfile(`${input.dataset} ${input.version}: dataset profile`, [{ label: 'shards', value: String(manifest.shards.length) }], profile);
  await writeJson(store, keys.json, { dataset: input.dataset, version: input.version, code: PROFILE_CODE_VERSION, ...profile });
  await store.put(keys.html, html, { contentType: 'text/html' });
  return {
    profileHtmlKey: keys.html,
    profileJsonKey: keys.json,
    rows: profile.rows,
    features: profile.features.length,
    htmlBytes: Buffer.byteLength(html),
    profile,
  };
}

/** The dataset's newest complete feature version (features/<dataset>/latest.json): what explore profiles when no version is given. */
export async function latestFeatureVersion(deps: ActivityDeps, input: Omit<ExploreInput, 'version'>): Promise<string> {
  const latest = await readJson<{ version: string }>(deps.lake(input.lake), lake.featureLatest(input.dataset));
  if (!latest) throw new InvalidInputError(`explore: ${input.dataset} has no feature version in ${input.lake}; run carepipe features first`);
  return latest.version;
}

export async function writeDatasetProfile(deps: ActivityDeps, input: ExploreInput): Promise<ProfileResult> {
  const { profile, ...result } = await storeDatasetProfile(deps.lake(input.lake), input);
  deps.logger.info('dataset profile written', { ...activityLogFields(), rows: profile.rows, features: result.features });
  return result;
}
