/**
 * Ingest's bounds through its activity (ingestFiles on a file:// lake, in-process): every file of
 * apache/parquet-testing (infra/parquet-testing.sh fetches them at a pinned commit) is ingested or
 * quarantined with a documented reason; an object listed over the file-size cap is quarantined
 * without being read; 10,000 empty files are each accounted for; `lake inspect` shows a
 * quarantined file's reason.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Table } from 'apache-arrow';
import { ingestFiles } from '../../activities/ingest/ingest-file.js';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import { QUARANTINE_REASONS } from '../../activities/ingest/reasons.js';
import { inspectObject } from '../../activities/io/parquet-inspect.js';
import { writeParquet } from '../../activities/io/parquet.js';
import { mapBounded } from '../../core/map-bounded.js';
import { parseConfig, REPO_ROOT } from '../../core/config.js';
import { lake } from '../../data-lake/layout.js';
import { localLake } from '../helpers/features-lake.js';
import { patientColumns, patientsFile } from '../helpers/hostile-parquet.js';

const PARQUET_TESTING = join(REPO_ROOT, '.test-artifacts', 'parquet-testing');
const DATE = '2024-01-01';
const dirs: string[] = [];
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.parquet/.test(f) ? [p] : [];
  });
}

/** Batches of 16 keys, as ingestWorkflow sends them, two at a time. */
async function ingestKeys(deps: ReturnType<typeof localLake>['deps'], lakeUri: string, keys: string[]) {
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += 16) batches.push(keys.slice(i, i + 16));
  return (await mapBounded(batches, 2, (batch) => ingestFiles(deps, { lake: lakeUri, keys: batch, bucketCount: 4 }))).flat();
}

test('Every apache/parquet-testing file is ingested or quarantined with a documented reason, and the worker reads on.', async (t) => {
  if (!existsSync(join(PARQUET_TESTING, '.commit'))) t.fail('apache/parquet-testing is missing: run infra/parquet-testing.sh (npm test runs it first)');
  const l = localLake('parquet-testing');
  dirs.push(l.dir);
  const store = l.deps.lake(l.lakeUri);
  const sources = files(PARQUET_TESTING);
  t.true(sources.length >= 90, `${sources.length} files`);
  const keys: string[] = [];
  for (const path of sources) {
    const name = relative(PARQUET_TESTING, path).replace(/[^A-Za-z0-9._-]/g, '_');
    keys.push(`${lake.rawDatePrefix('patients', DATE)}${name}`);
    await store.put(keys[keys.length - 1]!, readFileSync(path));
  }
  // A valid file last: the decoder still works after everything above.
  keys.push(`${lake.rawDatePrefix('patients', DATE)}zz-valid.parquet`);
  await store.put(keys[keys.length - 1]!, patientsFile(patientColumns()));
  const results = await ingestKeys(l.deps, l.lakeUri, keys);
  t.is(results.length, keys.length);
  for (const r of results) {
    if (r.status === 'quarantined') t.true(Object.hasOwn(QUARANTINE_REASONS, r.reasonType ?? ''), `${r.key}: ${r.reasonType}`);
    else t.is(r.status, 'ingested', r.key);
  }
  t.is(results.at(-1)!.accepted, 5);
  const byName = new Map(results.map((r) => [r.key.split('/').pop(), r]));
  t.is(byName.get('data_large_string_map.brotli.parquet')!.reasonType, 'FileTooLargeError', 'decodes to 2 GiB: refused from its footer');
  t.is(byName.get('bad_data_PARQUET-1481.parquet')!.reasonType, 'CorruptFileError');
  t.is(byName.get('data_uniform_encryption.parquet.encrypted')!.reasonType, 'CorruptFileError');
  const summary = [...results.reduce((m, r) => m.set(r.reasonType ?? r.status, (m.get(r.reasonType ?? r.status) ?? 0) + 1), new Map<string, number>())];
  t.log(JSON.stringify(summary));
});

test('An object listed over the file-size cap is quarantined unread (bytes streamed to quarantine/), and lake inspect shows why.', async (t) => {
  const l = localLake('file-cap');
  dirs.push(l.dir);
  const deps = { ...l.deps, config: parseConfig({ CAREPIPE_LAKE: l.lakeUri, CAREPIPE_INGEST_MAX_FILE_MB: '1' }) };
  const store = l.deps.lake(l.lakeUri);
  const big = new Uint8Array(2 ** 20 + 1).fill(7);
  const key = `${lake.rawDatePrefix('patients', DATE)}big.parquet`;
  await store.put(key, big);
  const reads: string[] = [];
  const counting = new Proxy(store, {
    get(target, prop) {
      if (prop === 'get') return (k: string) => (reads.push(k), target.get(k));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const [result] = await ingestFiles({ ...deps, lake: () => counting }, { lake: l.lakeUri, keys: [key], bucketCount: 4 });
  t.is(result!.status, 'quarantined');
  t.is(result!.reasonType, 'FileTooLargeError');
  t.false(reads.includes(key), 'the raw object is never read whole');
  const qKey = lake.quarantine('patients', DATE, 'big.parquet');
  t.true(Buffer.from(await store.get(qKey)).equals(Buffer.from(big)), 'the quarantine copy is the object, byte for byte');
  const manifest = JSON.parse(new TextDecoder().decode(await store.get(lake.ingestFileManifest('patients', DATE, 'big.parquet')))) as FileManifest;
  t.regex(manifest.quarantine!.reason, /listed at 1\.0 MiB, over ingest's file-size cap of 1\.0 MiB \(CAREPIPE_INGEST_MAX_FILE_MB\); not read/);
  // A rerun skips it by its etag and size, still without reading it.
  const [again] = await ingestFiles({ ...deps, lake: () => counting }, { lake: l.lakeUri, keys: [key], bucketCount: 4 });
  t.is(again!.status, 'skipped');
  t.false(reads.includes(key));
  const inspected = await inspectObject(store, qKey, big.length);
  t.is(inspected.quarantine?.reasonType, 'FileTooLargeError');
  t.regex(inspected.error ?? '', /not Parquet \(no PAR1 magic at its end\)/);
});

test('10,000 empty files (0 rows, and 0 bytes) are ingested in batches, each accounted for.', async (t) => {
  // On tmpfs when there is one: the file store fsyncs each of the 30,000 writes, which measures the disk, not ingest.
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/carepipe-empty-files-') : undefined;
  const l = shm ? localLake('empty-files', `file://${shm}`) : localLake('empty-files');
  dirs.push(shm ?? l.dir);
  const store = l.deps.lake(l.lakeUri);
  const empty = writeParquet(new Table(patientColumns()).slice(0, 0));
  const keys = Array.from({ length: 10_000 }, (_, i) => `${lake.rawDatePrefix('patients', DATE)}f${String(i).padStart(5, '0')}.parquet`);
  await mapBounded(keys, 16, (key, i) => store.put(key, i % 100 === 99 ? new Uint8Array() : empty));
  const started = process.hrtime.bigint();
  const results = await ingestKeys(l.deps, l.lakeUri, keys);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.log(`10,000 empty files ingested in ${seconds.toFixed(1)} s (${(10_000 / seconds).toFixed(0)} files/s)`);
  t.is(results.length, 10_000);
  const ingested = results.filter((r) => r.status === 'ingested');
  const quarantined = results.filter((r) => r.status === 'quarantined');
  t.is(ingested.length, 9_900);
  t.is(quarantined.length, 100);
  t.true(quarantined.every((r) => r.reasonType === 'CorruptFileError'));
  t.true(ingested.every((r) => r.rowsIn === 0 && r.accepted + r.corrected + r.rejected === 0 && r.fragments === 0));
  let manifests = 0;
  for await (const o of store.list(`manifests/ingest/patients/ingest_date=${DATE}/files/`)) if (o.key.endsWith('.json')) manifests++;
  t.is(manifests, 10_000, 'one manifest per file');
});
