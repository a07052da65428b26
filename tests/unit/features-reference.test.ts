/**
 * The feature build against an independent reference: a small generated lake (mild messiness:
 * corrections, duplicates, alternate units, unknown codes) is ingested into a file:// lake, its
 * features built, and a short Python script (tests/unit/features_reference.py, pyarrow + plain
 * Python, no code shared) computes every feature of every index stay from the curated Parquet
 * again. Every value must agree (floats within 1e-9). The labels and follow-up flags also agree
 * with the generator's ground truth.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildLakeFeatures, type LakeFeatureBuild } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { CATEGORICAL_FEATURES, ID_COLUMNS, NUMERIC_FEATURES } from '../../activities/features/schema.js';
import { Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../../activities/io/parquet.js';
import { REPO_ROOT } from '../../core/config.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';
import { compareRows, rowsOf, type Value } from '../helpers/feature-rows.js';

interface Reference {
  data_end: string;
  rows: Record<string, Record<string, Value>>;
}

let store: ObjectStore;
let pseudonymizer: Pseudonymizer;
let lakeDir = '';
let build: LakeFeatureBuild;
let manifest: FeatureManifest;
let generation: GenerationSummary;
let reference: Reference;
const shardRows: Record<string, Value>[] = [];

test.before(async () => {
  const local = localLake('features-reference');
  lakeDir = local.dir;
  store = local.deps.lake(local.lakeUri);
  pseudonymizer = new Pseudonymizer(local.deps.keys.pseudonym);
  generation = await writeRawLake(store, { patients: 500, days: 33, seed: 29 });
  await ingestAll(local.deps, local.lakeUri, 4);
  build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: 4 });
  manifest = JSON.parse(new TextDecoder().decode(await store.get(lake.featureManifest('readmission', build.version)))) as FeatureManifest;
  for (const shard of manifest.shards) shardRows.push(...rowsOf(readParquet(await store.get(shard.key), { source: shard.key })));
  const script = join(REPO_ROOT, 'tests', 'unit', 'features_reference.py');
  reference = JSON.parse(execFileSync('python3', [script, local.dir], { maxBuffer: 1 << 28 }).toString()) as Reference;
});

test.after.always(() => {
  if (lakeDir) rmSync(lakeDir, { recursive: true, force: true });
});

test('the reference finds the same index stays and the same data end', (t) => {
  t.true(shardRows.length > 200);
  t.is(reference.data_end, manifest.dataEnd);
  t.deepEqual(shardRows.map((r) => r.encounter_id).sort(), Object.keys(reference.rows).sort());
});

test('every feature of every index stay equals the reference value (floats within 1e-9)', (t) => {
  const { compared, mismatches, columnMismatches } = compareRows(shardRows, reference.rows);
  t.deepEqual(columnMismatches, [], "every row has the reference row's columns");
  t.deepEqual(mismatches, []);
  t.is(compared, shardRows.length * (ID_COLUMNS.length + 2 + NUMERIC_FEATURES.length + CATEGORICAL_FEATURES.length));
});

test('the features are not trivial: labs, comorbidities, priors and chapters take many values', (t) => {
  const distinct = (column: string) => new Set(shardRows.map((r) => r[column])).size;
  t.true(distinct('charlson_index') >= 4);
  t.true(distinct('prior_inpatient_365d') >= 3);
  t.true(distinct('dx_chapter') >= 6);
  t.true(distinct('lab_sodium_min') >= 10);
  t.true(shardRows.filter((r) => r.lab_albumin_count === 0).length > 0, 'some stays have no albumin');
  t.true(shardRows.some((r) => (r.lab_glucose_count as number) > 3));
});

test("labels and follow-up flags equal the generator's ground truth, and the counts add up", async (t) => {
  const truth = new Map<string, { label: number; censored: boolean }>();
  for await (const o of store.list(lake.groundTruth('readmission/'))) {
    const table = readParquet(await store.get(o.key), { source: o.key });
    const ids = stringValues(table.getChild('encounter_id'), table.numRows);
    const labels = intOrFloatToFloat64(table.getChild('label')!);
    const censored = table.getChild('censored')!.toArray() as ArrayLike<boolean>;
    // Curated encounter ids are keyed pseudonyms of the raw ones.
    ids.forEach((id, i) => truth.set(pseudonymizer.encounterId(id!), { label: labels[i]!, censored: Boolean(censored[i]) }));
  }
  t.is(shardRows.length, generation.indexStays);
  for (const row of shardRows) {
    const g = truth.get(row.encounter_id as string)!;
    t.is(row.label, g.label, `label of ${String(row.encounter_id)}`);
    t.is(row.censored === 1, g.censored, `censored of ${String(row.encounter_id)}`);
  }
  t.is(manifest.rows, generation.indexStays);
  t.is(manifest.positives, generation.readmissions);
  t.is(manifest.censored, generation.censoredIndexStays);
  t.is(manifest.labelledRows, generation.indexStays - generation.censoredIndexStays);
  t.true(build.labRows > 10_000);
});
