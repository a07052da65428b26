/**
 * An independent check on a year of daily files written as another producer writes them
 * (YEAR_OF_DAILY_FILES: stays sent on their admission day with their discharge filled in, events
 * late in the local evening sent in that local day's file), so with many times later than their
 * file's ingest date, which the contract allows. The lake is ingested and its features built
 * in-process (tests/helpers/features-lake.ts), then held against two outside views:
 *
 * - the generator's ground truth, computed from the unshifted simulation without looking at any
 *   file: the same index stays (none lost), labels and follow-up flags;
 * - the Python reference (tests/unit/features_reference.py), computing every feature of every index
 *   stay again from the curated Parquet.
 *
 * - the raw files themselves: at every data end of the lake's last 45 days, a stay must count as
 *   followed exactly when its (unshifted) discharge was more than 30 days before that end, the
 *   ground truth's rule; so the follow-up clock is checked on many stays, not only the few near
 *   the real end.
 *
 * and ingest must reject exactly the rows the mild messiness injected, nothing for a time. A rule
 * judging times against the ingest date loses stays and rejects rows; a follow-up clock that
 * ignores `discharge_lag_days` calls followed the stays whose file came before their discharge
 * (the lake is checked to hold many).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildLakeFeatures, type LakeFeatureBuild } from '../../activities/features/local-build.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { readBucketPlan } from '../../activities/features/plan.js';
import { EMPTY_BUCKET_TABLE, readBucketTable } from '../../activities/features/read-bucket.js';
import { buildReadmissionFeatures } from '../../activities/features/readmission.js';
import { CATEGORICAL_FEATURES, ID_COLUMNS, NUMERIC_FEATURES } from '../../activities/features/schema.js';
import type { DayManifest } from '../../activities/ingest/day-manifests.js';
import { Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { intOrFloatToFloat64, readParquet, timestampColumnToMillis } from '../../activities/io/parquet.js';
import { REPO_ROOT } from '../../core/config.js';
import { type GenerationSummary, YEAR_OF_DAILY_FILES, writeRawLake } from '../../data-lake/generator/index.js';
import { RAW_TABLES, type RawTable, lake } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';
import { compareRows, rowsOf, type Value } from '../helpers/feature-rows.js';

interface Reference {
  data_end: string;
  rows: Record<string, Record<string, Value>>;
}
/** An inpatient stay with a discharge, as the raw files show it: its discharge and the first file date carrying it (epoch day). */
interface RawStay {
  dischargeMs: number;
  fileDay: number;
}

const DAY = 86_400_000;
const PATIENTS = 800;
const BUCKETS = 4;

let store: ObjectStore;
let pseudonymizer: Pseudonymizer;
let lakeDir = '';
let build: LakeFeatureBuild;
let manifest: FeatureManifest;
let generation: GenerationSummary;
let reference: Reference;
const shardRows: Record<string, Value>[] = [];
const dayManifests: DayManifest[] = [];
const truth = new Map<string, { label: number; censored: boolean }>();
/** By curated (pseudonymous) encounter id. */
const rawStays = new Map<string, RawStay>();

test.before(async () => {
  const local = localLake('features-year');
  lakeDir = local.dir;
  store = local.deps.lake(local.lakeUri);
  pseudonymizer = new Pseudonymizer(local.deps.keys.pseudonym);
  generation = await writeRawLake(store, { ...YEAR_OF_DAILY_FILES, patients: PATIENTS, seed: 41, filesPerDay: 1 });
  await ingestAll(local.deps, local.lakeUri, BUCKETS);
  for await (const o of store.list('manifests/ingest/')) {
    if (/^manifests\/ingest\/[a-z_]+\/ingest_date=[\d-]+\.json$/.test(o.key))
      dayManifests.push(JSON.parse(new TextDecoder().decode(await store.get(o.key))) as DayManifest);
  }
  build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: BUCKETS });
  manifest = JSON.parse(new TextDecoder().decode(await store.get(lake.featureManifest('readmission', build.version)))) as FeatureManifest;
  for (const shard of manifest.shards) shardRows.push(...rowsOf(readParquet(await store.get(shard.key), { source: shard.key })));
  for await (const o of store.list(lake.groundTruth('readmission/'))) {
    const table = readParquet(await store.get(o.key), { source: o.key });
    const ids = stringValues(table.getChild('encounter_id'), table.numRows);
    const labels = intOrFloatToFloat64(table.getChild('label')!);
    const censored = table.getChild('censored')!.toArray() as ArrayLike<boolean>;
    // Curated encounter ids are keyed pseudonyms of the raw ones.
    ids.forEach((id, i) => truth.set(pseudonymizer.encounterId(id!), { label: labels[i]!, censored: Boolean(censored[i]) }));
  }
  for await (const o of store.list('raw/encounters/')) {
    const fileDay = Date.parse(`${/ingest_date=([\d-]+)\//.exec(o.key)![1]!}T00:00:00Z`) / DAY;
    const data = readParquet(await store.get(o.key), { source: o.key });
    const ids = stringValues(data.getChild('encounter_id'), data.numRows);
    const classes = stringValues(data.getChild('encounter_class'), data.numRows);
    const discharges = timestampColumnToMillis(data.getChild('discharge_time')!, 'discharge_time');
    ids.forEach((id, i) => {
      if (classes[i] !== 'inpatient' || Number.isNaN(discharges[i]!)) return;
      const key = pseudonymizer.encounterId(id!);
      const seen = rawStays.get(key);
      if (!seen || fileDay < seen.fileDay) rawStays.set(key, { dischargeMs: discharges[i]!, fileDay });
    });
  }
  const script = join(REPO_ROOT, 'tests', 'unit', 'features_reference.py');
  reference = JSON.parse(execFileSync('python3', [script, local.dir], { maxBuffer: 1 << 28 }).toString()) as Reference;
});

test.after.always(() => {
  if (lakeDir) rmSync(lakeDir, { recursive: true, force: true });
});

/**
 * Raw rows of a table whose `column` is at or after the midnight ending their file's ingest date
 * (encounters: inpatient stays only, the index stays' kind).
 */
async function laterThanTheirFile(table: RawTable, column: string): Promise<{ later: number; rows: number; evening: number }> {
  const out = { later: 0, rows: 0, evening: 0 };
  for await (const o of store.list(`raw/${table}/`)) {
    const end = Date.parse(`${/ingest_date=([\d-]+)\//.exec(o.key)![1]!}T00:00:00Z`) + DAY;
    const data = readParquet(await store.get(o.key), { source: o.key });
    const classes = table === 'encounters' ? stringValues(data.getChild('encounter_class'), data.numRows) : undefined;
    for (const [i, t] of timestampColumnToMillis(data.getChild(column)!, column).entries()) {
      if (Number.isNaN(t) || (classes && classes[i] !== 'inpatient')) continue;
      out.rows++;
      if (t < end) continue;
      out.later++;
      // Late in a New York evening: 00:30 to 04:30 UTC.
      if (t % DAY < 5 * 3_600_000) out.evening++;
    }
  }
  return out;
}

test("the lake is a year of daily files, and many of its times are later than their file's date", async (t) => {
  const { first, last } = generation.ingestDates;
  t.true(Date.parse(last) - Date.parse(first) >= 364 * DAY, `${first} to ${last}`);
  // A small lake has a few days on which nothing at all happened, so no file landed.
  const dates = new Set(dayManifests.map((m) => m.ingestDate));
  t.true(dates.size >= 355, `${dates.size} ingest dates with files`);
  t.is(generation.ingestDates.last, manifest.dataEnd, 'the lake ends on its last ingest date, where the ground truth measures follow-up');
  const discharges = await laterThanTheirFile('encounters', 'discharge_time');
  const labs = await laterThanTheirFile('lab_results', 'observed_at');
  t.true(discharges.later > 0.25 * discharges.rows, `${discharges.later} of ${discharges.rows} inpatient discharges`);
  t.true(discharges.evening > 0.1 * discharges.rows, `${discharges.evening} of ${discharges.rows} inpatient discharges in the evening`);
  t.true(labs.later > 0.15 * labs.rows, `${labs.later} of ${labs.rows} lab results`);
});

test('ingest rejects exactly the rows the messiness injected, and quarantines nothing', (t) => {
  const m = generation.messiness;
  const injected: Record<RawTable, number> = {
    patients: m.impossible.patients + m.duplicates.patients,
    encounters: m.impossible.encounters + m.duplicates.encounters,
    diagnoses: m.unknownCodes.diagnoses + m.duplicates.diagnoses,
    lab_results: m.impossible.lab_results + m.unknownCodes.lab_results + m.duplicates.lab_results,
  };
  for (const table of RAW_TABLES) {
    const days = dayManifests.filter((d) => d.table === table);
    t.is(
      days.reduce((n, d) => n + d.rowsIn, 0),
      generation.rows[table],
      `${table}: every raw row is counted`,
    );
    const reasons: Record<string, number> = {};
    for (const d of days) for (const [reason, n] of Object.entries(d.rejectReasons)) reasons[reason] = (reasons[reason] ?? 0) + n;
    t.is(
      days.reduce((n, d) => n + d.rejected, 0),
      injected[table],
      `${table}: rejected ${JSON.stringify(reasons)}`,
    );
    t.deepEqual(
      days.flatMap((d) => d.quarantined),
      [],
      table,
    );
  }
  t.true(injected.encounters > 0 && injected.lab_results > 0);
});

test('every index stay of the ground truth is built, none lost, with its label and follow-up flag', (t) => {
  t.is(truth.size, generation.indexStays);
  t.deepEqual(shardRows.map((r) => r.encounter_id as string).sort(), [...truth.keys()].sort());
  const wrong: string[] = [];
  for (const row of shardRows) {
    const g = truth.get(row.encounter_id as string)!;
    if (row.label !== g.label) wrong.push(`${String(row.encounter_id)}: label ${String(row.label)}, truth ${g.label}`);
    if ((row.censored === 1) !== g.censored) wrong.push(`${String(row.encounter_id)}: censored ${String(row.censored)}, truth ${String(g.censored)}`);
  }
  t.deepEqual(wrong, []);
  t.is(manifest.rows, generation.indexStays);
  t.is(manifest.positives, generation.readmissions);
  t.is(manifest.censored, generation.censoredIndexStays);
  t.true(generation.readmissions > 60, `${generation.readmissions} readmissions`);
});

test('at every data end of the last 45 days, a stay is followed exactly when its discharge was over 30 days before', async (t) => {
  const lastMs = Date.parse(`${manifest.dataEnd}T00:00:00Z`);
  const ends = Array.from({ length: 46 }, (_, k) => lastMs - k * DAY);
  const wrong: string[] = [];
  let compared = 0;
  // Stays whose file date was 30 days before the end although their discharge was not: the lag decides them.
  let lagDecides = 0;
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    // Follow-up reads encounters only; the other tables left empty keep 46 builds per bucket cheap.
    const shard = manifest.shards.find((x) => x.bucket === bucket);
    if (!shard) continue;
    const planned = await readBucketPlan(store, 'readmission', build.version, bucket, shard.inputHash);
    const encounters = await readBucketTable(store, 'encounters', planned.parts.encounters, async () => {});
    for (const end of ends) {
      const frame = buildReadmissionFeatures(
        { patients: EMPTY_BUCKET_TABLE, encounters, diagnoses: EMPTY_BUCKET_TABLE, labs: EMPTY_BUCKET_TABLE },
        { dataEndMs: end },
      );
      const ids = frame.columns.find((c) => c.name === 'encounter_id')!.values as string[];
      const censored = frame.columns.find((c) => c.name === 'censored')!.values as Int32Array;
      ids.forEach((id, i) => {
        const stay = rawStays.get(id)!;
        const followed = stay.dischargeMs + 30 * DAY < end;
        if (followed === (censored[i] === 1)) wrong.push(`${id} at ${new Date(end).toISOString().slice(0, 10)}: censored ${censored[i]}`);
        if (!followed && (stay.fileDay + 30) * DAY <= end) lagDecides++;
        compared++;
      });
    }
  }
  t.deepEqual(wrong.slice(0, 20), []);
  t.is(compared, ends.length * generation.indexStays);
  t.true(lagDecides >= 20, `the lag decides ${lagDecides} (stay, end) pairs`);
});

test('every feature of every index stay equals the Python reference (floats within 1e-9)', (t) => {
  t.is(reference.data_end, manifest.dataEnd);
  t.deepEqual(shardRows.map((r) => r.encounter_id).sort(), Object.keys(reference.rows).sort());
  const { compared, mismatches, columnMismatches } = compareRows(shardRows, reference.rows);
  t.deepEqual(columnMismatches, [], "every row has the reference row's columns");
  t.deepEqual(mismatches, []);
  t.is(compared, shardRows.length * (ID_COLUMNS.length + 2 + NUMERIC_FEATURES.length + CATEGORICAL_FEATURES.length));
});
