/**
 * The compacted curated zone: per table and bucket one generation holding every accepted row, in
 * the contract's order, reached through a record replaced atomically; the same files give the same
 * generation byte for byte whatever the history of compactions; a clean zone compacts to nothing;
 * what nothing reads is swept; and a zone that mixes pseudonym keys or bucket counts is refused,
 * saying how to rebuild it. File lakes ingested in-process, no Temporal.
 */
import test from 'ava';
import { rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Table } from 'apache-arrow';
import { sha256Hex } from '../../activities/context.js';
import { compactBucketTables } from '../../activities/curated/compact-bucket.js';
import { sweepCurated } from '../../activities/curated/compaction-finish.js';
import { planCompactionWork } from '../../activities/curated/compaction-plan.js';
import { compactLake } from '../../activities/curated/local-compact.js';
import type { GenerationRecord } from '../../activities/curated/records.js';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { type BucketPlan, planFeatures } from '../../activities/features/plan.js';
import { readBucketTable } from '../../activities/features/read-bucket.js';
import { writeIngestManifests } from '../../activities/ingest/day-manifests.js';
import { CURATION_VERSION, ingestFile } from '../../activities/ingest/ingest-file.js';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import { stringValues, timestampMsVector, utf8Vector } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { InvalidInputError } from '../../core/errors.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake, RAW_TABLES } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const dirs: string[] = [];
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const json = async <T>(store: ObjectStore, key: string) => JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
const GENERATOR = { patients: 120, days: 4, seed: 7, messiness: 'none' } as const;

function newLake(name: string, pseudonymKeyId = 'pseudo-1') {
  const local = localLake(name, undefined, pseudonymKeyId);
  dirs.push(local.dir);
  return { ...local, store: local.deps.lake(local.lakeUri) };
}

async function fileManifests(store: ObjectStore): Promise<FileManifest[]> {
  const out: FileManifest[] = [];
  for await (const obj of store.list('manifests/ingest/')) if (obj.key.includes('/files/')) out.push(await json<FileManifest>(store, obj.key));
  return out;
}

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const obj of store.list(prefix)) out.push(obj.key);
  return out;
}

async function generatedLake(name: string, bucketCount: number) {
  const l = newLake(name);
  await writeRawLake(l.store, GENERATOR);
  await ingestAll(l.deps, l.lakeUri, bucketCount);
  return l;
}

/** Copies the raw files `keep` selects from one lake to another. */
async function copyRaw(from: ObjectStore, to: ObjectStore, keep: (key: string) => boolean): Promise<void> {
  for (const key of await keysUnder(from, 'raw/')) if (keep(key)) await to.put(key, await from.get(key));
}

/** Every record of the zone, with its generation's bytes. */
async function generations(store: ObjectStore, bucketCount: number) {
  const out = new Map<string, { record: GenerationRecord; bytes: Uint8Array | null }>();
  for (const table of RAW_TABLES) {
    for (let b = 0; b < bucketCount; b++) {
      const key = lake.curatedRecord(table, b);
      if (!(await store.head(key))) continue;
      const record = await json<GenerationRecord>(store, key);
      out.set(`${table}/${b}`, { record, bytes: record.key ? await store.get(record.key) : null });
    }
  }
  return out;
}

test("a compacted zone is one generation and one record per table and bucket, every accepted row once, in the contract's order", async (t) => {
  const { store } = await generatedLake('compact-shape', 2);
  const keys = await keysUnder(store, 'curated/');
  t.true(keys.length > 0);
  t.deepEqual(
    keys.filter((k) => !/\/bucket=\d{3}\/(_current\.json|gen-[0-9a-f]{16}\.parquet)$/.test(k)),
    [],
    'no staged fragment is left',
  );
  t.true(keys.length <= RAW_TABLES.length * 2 * 2, `${keys.length} objects for 4 tables x 2 buckets`);
  const manifests = await fileManifests(store);
  for (const table of RAW_TABLES) {
    const expected = manifests.filter((m) => m.table === table).reduce((n, m) => n + m.accepted + m.corrected, 0);
    let rows = 0;
    for (let b = 0; b < 2; b++) {
      const record = await json<GenerationRecord>(store, lake.curatedRecord(table, b));
      const gen = readParquet(await store.get(record.key!));
      t.is(gen.numRows, record.rows);
      t.is(
        record.files.reduce((n, f) => n + f.rows, 0),
        record.rows,
        `${table}/${b}: the record's files account for its rows`,
      );
      const order = stringValues(gen.getChild('ingest_date'), gen.numRows).map((d, i) => `${d}/${stringValues(gen.getChild('source_file'), gen.numRows)[i]}`);
      t.deepEqual(order, [...order].sort(), `${table}/${b}: rows in ingest date, then file name order`);
      rows += gen.numRows;
    }
    t.is(rows, expected, `${table}: accepted + corrected rows, each once`);
  }
});

test('day by day gives the same generations, byte for byte, as all days at once; a re-sent older file is folded in its place', async (t) => {
  const source = newLake('compact-source');
  await writeRawLake(source.store, GENERATOR);
  const dates = [...new Set((await keysUnder(source.store, 'raw/')).map((k) => /ingest_date=([\d-]+)/.exec(k)?.[1]).filter(Boolean))].sort() as string[];
  const last = dates[dates.length - 1]!;
  const daily = newLake('compact-daily');
  const atOnce = newLake('compact-at-once');
  await copyRaw(source.store, daily.store, (k) => !k.includes(`ingest_date=${last}/`));
  await ingestAll(daily.deps, daily.lakeUri, 2);
  const before = await generations(daily.store, 2);
  await copyRaw(source.store, daily.store, (k) => k.includes(`ingest_date=${last}/`));
  await ingestAll(daily.deps, daily.lakeUri, 2);
  await copyRaw(source.store, atOnce.store, () => true);
  await ingestAll(atOnce.deps, atOnce.lakeUri, 2);
  const [a, b] = [await generations(daily.store, 2), await generations(atOnce.store, 2)];
  t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, g] of a) {
    t.is(g.record.key, b.get(k)!.record.key, `${k}: the same generation`);
    t.deepEqual(g.bytes, b.get(k)!.bytes, `${k}: the same bytes`);
    const old = before.get(k)?.record.key;
    if (old && old !== g.record.key)
      t.true(
        g.record.superseded.some((s) => s.key === old) && !!(await daily.store.head(old)),
        `${k}: the superseded generation stays for readers planned on it`,
      );
  }

  // A corrected file for the first day: its last row dropped.
  const resent = (await keysUnder(source.store, `raw/encounters/ingest_date=${dates[0]}/`))[0]!;
  const original = readParquet(await source.store.get(resent));
  const corrected = writeParquet(original.slice(0, original.numRows - 1));
  const fresh = newLake('compact-fresh');
  await copyRaw(source.store, fresh.store, (k) => k !== resent);
  for (const l of [daily, fresh]) {
    await l.store.put(resent, corrected);
    await ingestAll(l.deps, l.lakeUri, 2);
  }
  const [c, d] = [await generations(daily.store, 2), await generations(fresh.store, 2)];
  let changed = 0;
  for (const [k, g] of c) {
    t.deepEqual(g.bytes, d.get(k)!.bytes, `${k}: the correction lands where a fresh ingest puts it`);
    if (g.record.key !== a.get(k)!.record.key) changed++;
    if (!k.startsWith('encounters/')) t.is(g.record.key, a.get(k)!.record.key, `${k}: untouched tables keep their generation`);
  }
  t.true(changed >= 1 && changed <= 2, `${changed} generations rewritten`);
});

test('a clean zone compacts to nothing, and a day manifest rewritten with the same content is not dirty', async (t) => {
  const { store, deps, lakeUri } = await generatedLake('compact-clean', 2);
  const before = await generations(store, 2);
  t.is((await compactLake(store, { bucketCount: 2, pseudonymKeyId: 'pseudo-1' })).dirtyDays, 0);
  await writeIngestManifests(deps, { lake: lakeUri });
  const again = await compactLake(store, { bucketCount: 2, pseudonymKeyId: 'pseudo-1' });
  t.is(again.dirtyDays, 0);
  t.deepEqual(again.buckets, []);
  const after = await generations(store, 2);
  for (const [k, g] of before) t.is(after.get(k)!.record.key, g.record.key, k);
});

test('two compactions of one bucket at once: both finish, and the record names the generation either alone would write', async (t) => {
  const l = newLake('compact-race');
  await writeRawLake(l.store, GENERATOR);
  await ingestAll(l.deps, l.lakeUri, 1, { compact: false });
  const work = await planCompactionWork(l.store, 1, 'pseudo-1', async () => {});
  const [x, y] = await Promise.all([
    compactBucketTables(l.store, work!.buckets[0]!, async () => {}),
    compactBucketTables(l.store, work!.buckets[0]!, async () => {}),
  ]);
  t.is(x.tables.length, 4);
  t.is(y.tables.length, 4);
  const reference = await generatedLake('compact-race-reference', 1);
  const [a, b] = [await generations(l.store, 1), await generations(reference.store, 1)];
  for (const [k, g] of b) t.is(a.get(k)!.record.key, g.record.key, k);
});

test('staged fragments no manifest names and generations no record names are swept once older than the grace period', async (t) => {
  const { store, dir } = await generatedLake('compact-sweep', 2);
  const record = await json<GenerationRecord>(store, lake.curatedRecord('encounters', 0));
  const date = record.files[0]!.ingestDate;
  const bytes = await store.get(record.key!);
  const dead = lake.curatedFragment('encounters', 0, date, 'dead00000000000d');
  const recent = lake.curatedFragment('encounters', 0, date, '0ece000000000001');
  const strayGeneration = lake.curatedGeneration('encounters', 0, 'dead0000000000aa');
  for (const key of [dead, recent, strayGeneration]) await store.put(key, bytes);
  const threeHoursAgo = new Date(Date.now() - 3 * 3600_000);
  for (const key of [dead, strayGeneration]) utimesSync(join(dir, key), threeHoursAgo, threeHoursAgo);
  const swept = await sweepCurated(store, Date.now() - 2 * 3600_000, async () => {});
  t.deepEqual(swept, {
    fragmentsDeleted: 1,
    generationsDeleted: 1,
    pending: 1 + (await keysUnder(store, 'curated/')).filter((k) => k.endsWith('.parquet') && k !== recent).length,
  });
  t.is(await store.head(dead), undefined, "the dead attempt's fragment is deleted");
  t.is(await store.head(strayGeneration), undefined, 'a generation no record names is deleted');
  t.truthy(await store.head(recent), 'a fragment younger than the grace period is kept: its ingest may be writing its manifest');
  t.truthy(await store.head(record.key!), 'the current generation stays');
});

test('a zone that mixes pseudonym keys is refused, saying how many files are under which key and how to rebuild', async (t) => {
  const { store, lakeUri } = await generatedLake('compact-keys', 2);
  const raw = (await fileManifests(store)).find((m) => m.table === 'encounters')!;
  const resent = raw.source.replace(/[^/]+$/, 'resent.parquet');
  await store.put(resent, await store.get(raw.source));
  const other = localLake('compact-keys-2', lakeUri, 'pseudo-2').deps;
  await ingestFile(other, { lake: lakeUri, key: resent, bucketCount: 2 });
  await writeIngestManifests(other, { lake: lakeUri });
  const err = await t.throwsAsync(compactLake(store, { bucketCount: 2, pseudonymKeyId: 'pseudo-2' }), { instanceOf: InvalidInputError });
  t.regex(err?.message ?? '', /^compaction: cannot fold the curated zone: it mixes pseudonym keys \(key id pseudo-1: \d+, key id pseudo-2: 1\)/);
  t.regex(
    err?.message ?? '',
    new RegExp(`Re-run \`carepipe ingest --lake ${lakeUri} --buckets 2\` with CAREPIPE_PSEUDONYM_KEY_ID=pseudo-2 to re-curate every file`),
  );
});

test("a zone of another bucket count than the build's is refused, by compaction and by the feature plan", async (t) => {
  const { store, lakeUri, deps } = await generatedLake('compact-buckets', 2);
  const err = await t.throwsAsync(planFeatures(store, { dataset: 'd', bucketCount: 4 }), { instanceOf: InvalidInputError });
  t.regex(
    err?.message ?? '',
    new RegExp(`other bucket counts than this build's 4 \\(generations with 2 buckets: 8\\)\\. Re-run \`carepipe ingest --lake ${lakeUri} --buckets 4\``),
  );
  const raw = (await fileManifests(store)).find((m) => m.table === 'lab_results')!;
  const resent = raw.source.replace(/[^/]+$/, 'resent.parquet');
  await store.put(resent, await store.get(raw.source));
  await ingestFile(deps, { lake: lakeUri, key: resent, bucketCount: 4 });
  await writeIngestManifests(deps, { lake: lakeUri });
  const mixed = await t.throwsAsync(compactLake(store, { bucketCount: 2, pseudonymKeyId: 'pseudo-1' }), { instanceOf: InvalidInputError });
  t.regex(mixed?.message ?? '', /other bucket counts than this build's 2 \(2 buckets: \d+ files, 4 buckets: 1 files\)/);
});

test("two files of one ingest date resolve by file name, not by their fragments' hashes: read order and winner", async (t) => {
  const local = localLake('plan-ties');
  dirs.push(local.dir);
  const store = local.deps.lake(local.lakeUri);
  const date = '2025-03-10';
  const admit = Date.UTC(2025, 1, 1, 10);
  const encounters = (payer: string) =>
    writeParquet(
      new Table({
        encounter_id: utf8Vector(['E-1']),
        patient_id: utf8Vector(['MRN-1']),
        encounter_class: utf8Vector(['inpatient']),
        admit_time: timestampMsVector(Float64Array.of(admit)),
        discharge_time: timestampMsVector(Float64Array.of(admit + 2 * 86_400_000)),
        primary_dx: utf8Vector(['J18.9']),
        discharge_disposition: utf8Vector(['home']),
        facility_id: utf8Vector(['FAC01']),
        payer: utf8Vector([payer]),
      }),
    );
  // The fragment key's hash is of the raw bytes, the curation settings and the name (ingest-file.ts).
  const hashOf = (bytes: Uint8Array, name: string) => sha256Hex(sha256Hex(bytes, CURATION_VERSION, 'pseudo-1', '1'), name).slice(0, 16);
  // The later name gets the smaller hash: a key order would fold it first and let it lose.
  const payers = ['medicare', 'medicaid', 'commercial', 'self-pay', 'other'];
  const pairs = payers.flatMap((p) => payers.filter((q) => q !== p).map((q) => [p, q] as const));
  const [earlyPayer, latePayer] = pairs.find(([p, q]) => hashOf(encounters(p), 'a-first.parquet') > hashOf(encounters(q), 'b-second.parquet'))!;
  const [early, late] = [encounters(earlyPayer), encounters(latePayer)];
  await store.put(`raw/encounters/ingest_date=${date}/a-first.parquet`, early);
  await store.put(`raw/encounters/ingest_date=${date}/b-second.parquet`, late);
  // Each in a task of its own, so each has its own fragment, whose keys sort against the names.
  for (const name of ['a-first.parquet', 'b-second.parquet'])
    await ingestFile(local.deps, { lake: local.lakeUri, key: `raw/encounters/ingest_date=${date}/${name}`, bucketCount: 1 });
  await writeIngestManifests(local.deps, { lake: local.lakeUri });
  const staged = [...(await fileManifests(store))].filter((m) => m.table === 'encounters').map((m) => m.fragments[0]!.key);
  t.true(staged[0]! > staged[1]!, "the staged keys' order is not the files' order");
  await compactLake(store, { bucketCount: 1, pseudonymKeyId: 'pseudo-1' });

  const { plan, bucketPlans } = await planFeatures(store, { dataset: 'd', bucketCount: 1 });
  const planned = bucketPlans[0] as BucketPlan;
  t.is(planned.parts.encounters.length, 1, 'one generation');
  const read = await readBucketTable(store, 'encounters', planned.parts.encounters, async () => {});
  t.deepEqual(stringValues(read.table!.getChild('source_file'), 2), ['a-first.parquet', 'b-second.parquet'], 'rows in file-name order');
  t.deepEqual(Array.from(read.rows), [1], 'the later file name wins');

  const build = await buildLakeFeatures(store, { dataset: 'd', bucketCount: 1 });
  t.is(build.version, plan.version);
  const manifest = await json<FeatureManifest>(store, lake.featureManifest('d', build.version));
  const shard = readParquet(await store.get(manifest.shards[0]!.key));
  t.deepEqual(stringValues(shard.getChild('payer'), shard.numRows), [latePayer]);
});

test("a batch's fragment holds its files' rows one after another; a file curated again alone leaves it until the others are folded, then the sweep deletes it", async (t) => {
  const l = newLake('compact-batch');
  // Files on many days: several to a batch.
  await writeRawLake(l.store, { patients: 150, days: 40, seed: 7, messiness: 'none' });
  await ingestAll(l.deps, l.lakeUri, 2, { compact: false });
  const manifests = await fileManifests(l.store);
  const byKey = new Map<string, { m: FileManifest; offset: number; rows: number; members: number }[]>();
  for (const m of manifests)
    for (const f of m.fragments) byKey.set(f.key, [...(byKey.get(f.key) ?? []), { m, offset: f.offset ?? 0, rows: f.rows, members: f.members ?? 1 }]);
  const shared = [...byKey].filter(([, named]) => named.length > 1);
  t.true(shared.length > 0, "files of a table share their batch's fragments");
  for (const [key, named] of shared) {
    const sorted = [...named].sort((a, b) => a.offset - b.offset);
    let at = 0;
    for (const n of sorted) {
      t.is(n.offset, at, `${key}: ${n.m.fileName} starts where the previous file ended`);
      t.is(n.members, named.length);
      at += n.rows;
    }
    t.is(readParquet(await l.store.get(key)).numRows, at, `${key}: its files' rows and no others`);
  }

  // One file of a shared fragment corrected and curated again alone, before any compaction.
  const [sharedKey, named] = shared.find(([, n]) => n.some((x) => x.m.table === 'encounters')) ?? shared[0]!;
  const target = named[0]!.m;
  const original = readParquet(await l.store.get(target.source));
  await l.store.put(target.source, writeParquet(original.slice(0, original.numRows - 1)));
  await ingestFile(l.deps, { lake: l.lakeUri, key: target.source, bucketCount: 2 });
  await writeIngestManifests(l.deps, { lake: l.lakeUri });
  await compactLake(l.store, { bucketCount: 2, pseudonymKeyId: 'pseudo-1', graceMs: 2 * 3600_000 });
  t.truthy(await l.store.head(sharedKey), 'kept by compaction: not every file it was written for points at it any more');

  const fresh = newLake('compact-batch-fresh');
  await copyRaw(l.store, fresh.store, () => true);
  await ingestAll(fresh.deps, fresh.lakeUri, 2);
  const [a, b] = [await generations(l.store, 2), await generations(fresh.store, 2)];
  for (const [k, g] of a) t.deepEqual(g.bytes, b.get(k)!.bytes, `${k}: as a fresh ingest of the corrected lake`);

  const swept = await sweepCurated(l.store, Date.now() + 3600_000, async () => {});
  t.is(await l.store.head(sharedKey), undefined, 'the sweep deletes it once every row in it is folded');
  t.true(swept.fragmentsDeleted >= 1);
  t.deepEqual(
    (await keysUnder(l.store, 'curated/')).filter((k) => /\/part-[0-9a-f]+\.parquet$/.test(k)),
    [],
    'no staged fragment is left',
  );
});
