/**
 * `carepipe explore`'s activities over a generated lake (no Temporal): every shard's partial,
 * then the merge, give the profile of all labelled stays read as one table; a rerun reuses the
 * partials; the page is self-contained.
 */
import test from 'ava';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { readParquet } from '../../activities/io/parquet.js';
import { labelledRows } from '../../activities/train/feature-set.js';
import { profileFeatureShard, profileKeys, shardProfile, writeDatasetProfile } from '../../activities/reports/explore.js';
import { finishProfile, mergeProfiles, type DatasetProfile } from '../../activities/reports/profile-stats.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const BUCKETS = 4;

test('explore profiles every labelled stay of a feature version and writes profile.json and profile.html', async (t) => {
  const local = localLake('explore');
  const store = local.deps.lake(local.lakeUri);
  await writeRawLake(store, { patients: 400, days: 40, seed: 31 });
  await ingestAll(local.deps, local.lakeUri, BUCKETS);
  const build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: BUCKETS });
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(lake.featureManifest('readmission', build.version)))) as FeatureManifest;
  const target = { lake: local.lakeUri, dataset: 'readmission', version: build.version };

  for (const s of manifest.shards) t.like(await profileFeatureShard(local.deps, { ...target, bucket: s.bucket }), { bucket: s.bucket });
  const result = await writeDatasetProfile(local.deps, target);
  const keys = profileKeys('readmission', build.version);
  t.is(result.profileHtmlKey, keys.html);
  t.is(result.rows, manifest.labelledRows);

  // The same profile from the shards read directly and merged in one step.
  const direct = finishProfile(mergeProfiles(await Promise.all(manifest.shards.map((s) => shardProfile(store, s.key)))));
  const written = JSON.parse(new TextDecoder().decode(await store.get(keys.json))) as DatasetProfile;
  t.deepEqual({ ...written, dataset: undefined, version: undefined, code: undefined }, { ...direct, dataset: undefined, version: undefined, code: undefined });
  t.is(written.positives, manifest.labelledPositives);
  // Every feature column of the shards is profiled.
  const first = labelledRows(readParquet(await store.get(manifest.shards[0]!.key), { source: 'shard' }));
  t.deepEqual(written.features.map((f) => f.name).sort(), [...first.columns.keys()].sort());
  t.is(
    written.labelByPeriod.reduce((s, p) => s + p.rows, 0),
    manifest.labelledRows,
  );

  const html = new TextDecoder().decode(await store.get(keys.html));
  t.true(html.startsWith('<!doctype html>'));
  t.false(/https?:|<script/i.test(html));
  t.is(html.match(/<svg /g)?.length, written.features.length + 1, 'one chart per feature and the label rate by month');
  t.is(Buffer.byteLength(html), result.htmlBytes);

  // A rerun finds each partial by the shard's input hash and does not rewrite it.
  const before = (await store.head(keys.partial(manifest.shards[0]!.bucket)))!.etag;
  await profileFeatureShard(local.deps, { ...target, bucket: manifest.shards[0]!.bucket });
  t.is((await store.head(keys.partial(manifest.shards[0]!.bucket)))!.etag, before);
  local.deps.close();
});
