/**
 * The feature plan reads the ingest manifests, not a listing of curated/: it plans exactly the
 * fragments they name (in the contract's order of corrections, never a hash order), deletes old
 * fragments no manifest names, and refuses a curated zone that mixes pseudonym keys or bucket
 * counts, saying how to rebuild it. File lakes ingested in-process, no Temporal.
 */
import test from 'ava';
import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Table } from 'apache-arrow';
import { sha256Hex } from '../../activities/context.js';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { type BucketPlan, planFeatures } from '../../activities/features/plan.js';
import { readBucketTable } from '../../activities/features/read-bucket.js';
import { CURATION_VERSION, ingestFile } from '../../activities/ingest/ingest-file.js';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import { stringValues, timestampMsVector, utf8Vector } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { InvalidInputError } from '../../core/errors.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const dirs: string[] = [];
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function generatedLake(name: string, bucketCount: number) {
  const local = localLake(name);
  dirs.push(local.dir);
  const store = local.deps.lake(local.lakeUri);
  await writeRawLake(store, { patients: 120, days: 4, seed: 7, messiness: 'none' });
  await ingestAll(local.deps, local.lakeUri, bucketCount);
  return { ...local, store };
}

const json = async <T>(store: ObjectStore, key: string) => JSON.parse(new TextDecoder().decode(await store.get(key))) as T;

async function fileManifests(store: ObjectStore): Promise<FileManifest[]> {
  const out: FileManifest[] = [];
  for await (const obj of store.list('manifests/ingest/')) if (obj.key.includes('/files/')) out.push(await json<FileManifest>(store, obj.key));
  return out;
}

test('the plan names exactly the fragments of the ingest manifests; old unnamed fragments are deleted, recent ones kept and not read', async (t) => {
  const { store, dir } = await generatedLake('plan-orphans', 2);
  const before = await planFeatures(store, { dataset: 'd', bucketCount: 2 });
  const manifests = await fileManifests(store);
  for (const b of before.bucketPlans) {
    const named = manifests.flatMap((m) => m.fragments).filter((k) => k.includes(`/bucket=00${b.bucket}/`)).sort();
    t.deepEqual(Object.values(b.fragments).flat().sort(), named, `bucket ${b.bucket}: the manifests' fragments, no others`);
  }
  // An attempt that died before its manifest, an hour and more ago, and one that may still be running.
  const real = manifests.find((m) => m.table === 'encounters' && m.fragments.length > 0)!.fragments[0]!;
  const dead = real.replace(/part-[0-9a-f]+/, 'part-dead00000000000d');
  const recent = real.replace(/part-[0-9a-f]+/, 'part-0ece000000000001');
  await store.put(dead, await store.get(real));
  await store.put(recent, await store.get(real));
  const threeHoursAgo = new Date(Date.now() - 3 * 3600_000);
  utimesSync(join(dir, dead), threeHoursAgo, threeHoursAgo);

  const after = await planFeatures(store, { dataset: 'd', bucketCount: 2 });
  t.deepEqual(after.orphans, { deleted: 1, pending: 1 });
  t.is(await store.head(dead), undefined, 'the dead attempt\'s fragment is deleted');
  t.truthy(await store.head(recent), 'a fragment younger than the grace period is kept: its ingest may be writing its manifest');
  t.false(after.bucketPlans.some((b) => Object.values(b.fragments).flat().includes(recent)), 'and it is not read');
  t.is(after.plan.version, before.plan.version, 'unnamed fragments do not change the inputs');
});

test('a curated zone that mixes pseudonym keys is refused, saying how many files are under which key and how to rebuild', async (t) => {
  const { store, lakeUri } = await generatedLake('plan-keys', 2);
  const files = (await fileManifests(store)).filter((m) => m.status === 'ingested').length;
  const raw = (await fileManifests(store)).find((m) => m.table === 'encounters')!;
  const resent = raw.source.replace(/[^/]+$/, 'resent.parquet');
  await store.put(resent, await store.get(raw.source));
  await ingestFile(localLake('plan-keys-2', lakeUri, 'pseudo-2').deps, { lake: lakeUri, key: resent, bucketCount: 2 });
  const err = await t.throwsAsync(planFeatures(store, { dataset: 'd', bucketCount: 2, currentKeyId: 'pseudo-2' }), { instanceOf: InvalidInputError });
  t.is(err?.message, `features: cannot plan from the curated zone: it mixes pseudonym keys (files under key id pseudo-1: ${files}, under key id pseudo-2: 1). ` +
    `Re-run \`carepipe ingest --lake ${lakeUri} --buckets 2\` with CAREPIPE_PSEUDONYM_KEY_ID=pseudo-2 to re-curate every file under one key and bucket count, then build the features again.`);
});

test('a curated zone that mixes bucket counts is refused, as is one curated into another count than the build\'s', async (t) => {
  const { store, lakeUri, deps } = await generatedLake('plan-buckets', 2);
  const files = (await fileManifests(store)).filter((m) => m.status === 'ingested').length;
  const err = await t.throwsAsync(planFeatures(store, { dataset: 'd', bucketCount: 4 }), { instanceOf: InvalidInputError });
  t.regex(err?.message ?? '', new RegExp(`other bucket counts than this build's 4 \\(files with 2 buckets: ${files}\\)\\. Re-run \`carepipe ingest --lake ${lakeUri} --buckets 4\``));
  const raw = (await fileManifests(store)).find((m) => m.table === 'lab_results')!;
  const resent = raw.source.replace(/[^/]+$/, 'resent.parquet');
  await store.put(resent, await store.get(raw.source));
  await ingestFile(deps, { lake: lakeUri, key: resent, bucketCount: 4 });
  const mixed = await t.throwsAsync(planFeatures(store, { dataset: 'd', bucketCount: 2 }), { instanceOf: InvalidInputError });
  t.regex(mixed?.message ?? '', new RegExp(`\\(files with 2 buckets: ${files}, with 4 buckets: 1\\)`));
});

test('two files of one ingest date resolve by file name, not by their fragments\' hashes: read order and winner', async (t) => {
  const local = localLake('plan-ties');
  dirs.push(local.dir);
  const store = local.deps.lake(local.lakeUri);
  const date = '2025-03-10';
  const admit = Date.UTC(2025, 1, 1, 10);
  const encounters = (payer: string) => writeParquet(new Table({
    encounter_id: utf8Vector(['E-1']), patient_id: utf8Vector(['MRN-1']), encounter_class: utf8Vector(['inpatient']),
    admit_time: timestampMsVector(Float64Array.of(admit)), discharge_time: timestampMsVector(Float64Array.of(admit + 2 * 86_400_000)),
    primary_dx: utf8Vector(['J18.9']), discharge_disposition: utf8Vector(['home']), facility_id: utf8Vector(['FAC01']), payer: utf8Vector([payer]),
  }));
  // The fragment key's hash is of the raw bytes and the curation settings (ingest-file.ts).
  const hashOf = (bytes: Uint8Array) => sha256Hex(bytes, CURATION_VERSION, 'pseudo-1', '1').slice(0, 16);
  const [x, y] = [encounters('medicare'), encounters('medicaid')];
  // The later name gets the smaller hash: a key order would read it first and let it lose.
  const [early, late] = hashOf(x) > hashOf(y) ? [x, y] : [y, x];
  await store.put(`raw/encounters/ingest_date=${date}/a-first.parquet`, early);
  await store.put(`raw/encounters/ingest_date=${date}/b-second.parquet`, late);
  await ingestAll(local.deps, local.lakeUri, 1);

  const { plan, bucketPlans } = await planFeatures(store, { dataset: 'd', bucketCount: 1 });
  const planned = bucketPlans[0] as BucketPlan;
  t.deepEqual(planned.fragments.encounters, [hashOf(early), hashOf(late)].map((h) => lake.curatedFragment('encounters', 0, date, h)));
  t.true(planned.fragments.encounters[0]! > planned.fragments.encounters[1]!, 'the plan\'s order is not the keys\' order');
  const read = await readBucketTable(store, 'encounters', planned.fragments.encounters, async () => {});
  t.deepEqual(stringValues(read.table!.getChild('source_file'), 2), ['a-first.parquet', 'b-second.parquet'], 'rows in file-name order');
  t.deepEqual(Array.from(read.rows), [1], 'the later file name wins');

  const build = await buildLakeFeatures(store, { dataset: 'd', bucketCount: 1 });
  t.is(build.version, plan.version);
  const manifest = await json<FeatureManifest>(store, lake.featureManifest('d', build.version));
  const shard = readParquet(await store.get(manifest.shards[0]!.key));
  const payerOfLate = late === x ? 'medicare' : 'medicaid';
  t.deepEqual(stringValues(shard.getChild('payer'), shard.numRows), [payerOfLate]);
});
