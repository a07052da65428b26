/**
 * ingestWorkflow on the real test stack over a messy lake with the generator's corrupt files:
 * bad files are quarantined whole with their reason and the run goes on, every input row is
 * accounted for in the manifests and the rejects, every curated fragment sits in its patients'
 * bucket, and a second run skips every file and leaves the lake byte-identical.
 */
import test from 'ava';
import { bucketOf } from '../../activities/ingest/pseudonymizer.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { startIngest } from '../../cli/runs.js';
import { type CorruptFile, type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { lake, parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { IngestSummary } from '../../schemas/workflows.js';
import { contentOf, curatedRowsOf, dayManifests, fileManifests, listKeys, readJsonObject, readTable, snapshot, strings, sum } from '../helpers/lake-scan.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const BUCKETS = 8;
let env: PipelineEnv;
let store: ObjectStore;
let generation: GenerationSummary;
let first: IngestSummary;
let runs = 0;

async function ingest(): Promise<IngestSummary> {
  const handle = await startIngest(
    env.client,
    env.config,
    { actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: BUCKETS },
    'manual',
    `ingest/test-${Date.now()}-${++runs}`,
  );
  return handle.result();
}

const toQuarantine = (): CorruptFile[] => generation.corruptFiles.filter((f) => f.expected === 'quarantine');
const toAccept = (): CorruptFile[] => generation.corruptFiles.filter((f) => f.expected === 'accept');
const fileManifestKey = (rawKey: string) => {
  const p = parseRawKey(rawKey)!;
  return lake.ingestFileManifest(p.table, p.date, p.fileName);
};

test.before(async () => {
  env = await createPipelineEnv('ingest');
  store = env.deps.lake(env.lakeUri);
  // Mild messiness (units, duplicates, corrections, impossible rows, empty files, mixed encodings) plus the four odd files.
  generation = await writeRawLake(store, { patients: 300, days: 3, seed: 7, filesPerDay: 2, messiness: { corrupt: true } });
  await env.startWorkers();
  first = await ingest();
});

test.after.always(async () => {
  await env?.close();
});

test.serial('the truncated and the wrongly typed file are quarantined whole with their reason, and the run goes on', async (t) => {
  const expected = toQuarantine();
  t.deepEqual(expected.map((f) => f.kind).sort(), ['truncated', 'wrong-type']);
  t.deepEqual([...first.quarantined].sort(), expected.map((f) => f.key).sort());
  t.is(first.quarantinedFiles, expected.length);
  const zone: string[] = [];
  for (const f of expected) {
    const p = parseRawKey(f.key)!;
    const copy = lake.quarantine(p.table, p.date, p.fileName);
    zone.push(copy, lake.quarantineReason(p.table, p.date, p.fileName));
    t.true(Buffer.from(await store.get(copy)).equals(Buffer.from(await store.get(f.key))), `${copy} is the raw file, whole`);
    const reason = await readJsonObject<{ source: string; reasonType: string; reason: string }>(store, lake.quarantineReason(p.table, p.date, p.fileName));
    t.is(reason.source, f.key);
    if (f.kind === 'truncated') {
      t.is(reason.reasonType, 'CorruptFileError');
    } else {
      t.is(reason.reasonType, 'SchemaMismatchError');
      t.is(reason.reason, `${f.key}: column "value" has type Utf8, the contract expects float`);
    }
    const manifest = (await fileManifests(store)).get(fileManifestKey(f.key))!;
    t.is(manifest.status, 'quarantined');
    t.deepEqual(manifest.fragments, []);
    t.is(manifest.quarantine?.reasonType, reason.reasonType);
  }
  t.deepEqual(await listKeys(store, 'quarantine/'), zone.sort(), 'the quarantine zone holds these files and nothing else');
});

test.serial('the file with an extra column and the file without an optional column are ingested, their rows all counted', async (t) => {
  const accept = toAccept();
  t.deepEqual(accept.map((f) => f.kind).sort(), ['extra-column', 'missing-column']);
  const manifests = await fileManifests(store);
  for (const f of accept) {
    const m = manifests.get(fileManifestKey(f.key))!;
    t.is(m.status, 'ingested', f.kind);
    t.is(m.rowsIn, f.rows, f.kind);
    t.true(m.fragments.length > 0, f.kind);
    let rows = 0;
    // Compacted: the file's rows are those of its buckets' generations that carry its date and name.
    for (const { table, rows: mine } of await curatedRowsOf(store, m)) {
      rows += mine.length;
      if (f.kind === 'missing-column')
        t.true(
          mine.every((i) => table.getChild('abnormal_flag')!.get(i) === null),
          'the missing flags read as null',
        );
      else t.false(table.schema.names.includes('source_system'), 'the extra column is ignored');
    }
    t.is(rows, m.accepted + m.corrected, `${f.kind}: curated rows = accepted + corrected`);
  }
});

test.serial('the day manifests sum to the run summary, each day balances in = accepted + corrected + rejected, and every raw row is there', async (t) => {
  const days = await dayManifests(store);
  const all = [...days.values()];
  t.deepEqual([...days.keys()].sort(), [...first.manifests].sort());
  for (const [key, d] of days) t.is(d.rowsIn, d.accepted + d.corrected + d.rejected, key);
  t.is(sum(all.map((d) => d.rowsIn)), first.rowsIn);
  t.is(sum(all.map((d) => d.accepted)), first.accepted);
  t.is(sum(all.map((d) => d.corrected)), first.corrected);
  t.is(sum(all.map((d) => d.rejected)), first.rejected);
  t.is(sum(all.map((d) => d.files.length)), first.files);
  t.is(sum(all.map((d) => d.quarantined.length)), first.quarantinedFiles);

  // Against what the generator wrote: every file, every row but the quarantined copies' rows.
  t.is(first.files, sum(Object.values(generation.filesByTable)));
  t.is(first.rowsIn, sum(Object.values(generation.rows)) - sum(toQuarantine().map((f) => f.rows)));
  t.is(first.rowsIn, first.accepted + first.corrected + first.rejected);
  // The generator's contract (its README): a validating reader rejects every impossible and
  // unknown-code row and one copy of each in-file duplicate pair, and nothing else.
  const m = generation.messiness;
  for (const table of RAW_TABLES) {
    const expected = (m.impossible as Partial<Record<RawTable, number>>)[table] ?? 0;
    const unknown = (m.unknownCodes as Partial<Record<RawTable, number>>)[table] ?? 0;
    const reasons: Record<string, number> = {};
    for (const d of all.filter((d) => d.table === table)) for (const [r, n] of Object.entries(d.rejectReasons)) reasons[r] = (reasons[r] ?? 0) + n;
    t.is(sum(Object.values(reasons)), expected + unknown + m.duplicates[table], `${table}: rejected ${JSON.stringify(reasons)}`);
  }
  // Alternate units are corrected (a duplicated one's first copy is rejected instead).
  t.true(first.corrected <= m.alternateUnits && first.corrected >= m.alternateUnits - m.duplicates.lab_results, `${first.corrected} vs ${m.alternateUnits}`);
  t.true(first.corrected > 0 && first.rejected > 0);

  // Curated rows are exactly the accepted and corrected ones.
  let curatedRows = 0;
  for (const key of (await listKeys(store, 'curated/')).filter((k) => k.endsWith('.parquet'))) curatedRows += (await readTable(store, key)).numRows;
  t.is(curatedRows, first.accepted + first.corrected);
});

test.serial('the rejects hold row number, reason code and pseudonym only, and their reasons count what the day manifests say', async (t) => {
  const counts = new Map<string, Record<string, number>>();
  let rows = 0;
  for (const key of await listKeys(store, 'rejects/')) {
    const m = /^rejects\/([a-z_]+)\/ingest_date=([\d-]+)\/part-[0-9a-f]{16}\.parquet$/.exec(key);
    t.truthy(m, key);
    const table = await readTable(store, key);
    t.deepEqual(table.schema.names, ['source_file', 'row_index', 'reason', 'patient_key']);
    const byReason = counts.get(`${m![1]}|${m![2]}`) ?? {};
    for (const reason of strings(table, 'reason')) byReason[reason!] = (byReason[reason!] ?? 0) + 1;
    counts.set(`${m![1]}|${m![2]}`, byReason);
    for (const key of strings(table, 'patient_key')) t.regex(key ?? 'null', /^p[0-9a-f]{24}$|^null$/);
    rows += table.numRows;
  }
  t.is(rows, first.rejected);
  const days = await dayManifests(store);
  for (const d of days.values()) t.deepEqual(counts.get(`${d.table}|${d.ingestDate}`) ?? {}, d.rejectReasons, `${d.table} ${d.ingestDate}`);
  const reasons = new Set([...counts.values()].flatMap((r) => Object.keys(r)));
  for (const reason of ['duplicate_key_in_file', 'impossible_value']) t.true(reasons.has(reason), reason);
});

test.serial(
  'curated/ is one generation and its record per table and bucket, each row in the bucket its patient key hashes to, each patient in one bucket',
  async (t) => {
    const bucketsOf = new Map<string, Set<number>>();
    const tables = new Set<string>();
    let misplaced = 0;
    const keys = await listKeys(store, 'curated/');
    t.deepEqual(
      keys.filter((k) => !/^curated\/[a-z_]+\/bucket=\d{3}\/(_current\.json|gen-[0-9a-f]{16}\.parquet)$/.test(k)),
      [],
      'no staged fragment is left',
    );
    t.is(keys.length, 2 * 4 * BUCKETS, 'objects grow with tables x buckets');
    for (const key of keys.filter((k) => k.endsWith('.parquet'))) {
      const m = /^curated\/([a-z_]+)\/bucket=(\d{3})\/gen-[0-9a-f]{16}\.parquet$/.exec(key);
      t.truthy(m, key);
      tables.add(m![1]!);
      const bucket = Number(m![2]);
      for (const pk of strings(await readTable(store, key), 'patient_key')) {
        if (bucketOf(pk!, BUCKETS) !== bucket) misplaced++;
        const set = bucketsOf.get(pk!) ?? new Set<number>();
        set.add(bucket);
        bucketsOf.set(pk!, set);
      }
    }
    t.is(misplaced, 0);
    t.deepEqual([...tables].sort(), ['diagnoses', 'encounters', 'lab_results', 'patients']);
    t.is(bucketsOf.size, generation.options.patients, 'one pseudonym per patient');
    t.deepEqual(
      [...bucketsOf.values()].filter((s) => s.size !== 1),
      [],
    );
    t.is(new Set([...bucketsOf.values()].map((s) => [...s][0])).size, BUCKETS, 'patients spread over every bucket');
  },
);

test.serial('running the same ingest twice leaves the lake byte-identical and reports the second run as skipped work', async (t) => {
  const zones = ['curated/', 'rejects/', 'manifests/', 'quarantine/'];
  const before = await snapshot(store, zones);
  const second = await ingest();
  const after = await snapshot(store, zones);
  t.is(second.files, first.files);
  t.is(second.skippedFiles, second.files, 'every file skipped');
  const comparable = (s: IngestSummary) => ({ ...s, skippedFiles: 0, quarantined: [...s.quarantined].sort(), compaction: null });
  t.deepEqual(comparable(second), comparable(first), 'same totals, quarantine list and manifests');
  t.like(second.compaction, { plan: '', dirtyDays: 0, generationsWritten: 0 }, 'nothing to compact');
  t.deepEqual(contentOf(after), contentOf(before), 'same keys, same bytes');
  // The day manifests are recomputed, and written again only if their content changed: nothing is touched.
  const rewritten = [...after].filter(([k, s]) => s.lastModified !== before.get(k)?.lastModified).map(([k]) => k);
  t.log(`rewritten on the rerun: ${rewritten.length} objects, ${[...new Set(rewritten.map((k) => k.replace(/ingest_date=.*$/, '')))].join(', ')}`);
  t.deepEqual(rewritten, [], 'an unchanged lake is not written to');
});
