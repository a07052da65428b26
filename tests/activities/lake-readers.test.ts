/**
 * Other engines read the lake carepipe writes. A producer (the generator, in a folder of its own,
 * copied in as plain files) fills raw/; the real ingest and feature build run on a file:// lake;
 * then pyarrow reads every zone as Hive-partitioned datasets, and a `**\/*.parquet` glob from the
 * lake root, matching dot-files as polars' and DuckDB's globs do, must find only real Parquet
 * files. raw/ must hold exactly the producer's files afterwards, and no file anywhere under the
 * lake root, the store's own folders included, may be other than one of the store's objects (the
 * store keeps no per-object metadata, beside the data or apart from it).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildLakeFeatures, type LakeFeatureBuild } from '../../activities/features/local-build.js';
import { FileStore } from '../../activities/io/file-store.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { REPO_ROOT } from '../../core/config.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { RAW_TABLES } from '../../data-lake/layout.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';
import { listKeys, readTable, sum } from '../helpers/lake-scan.js';

interface Readers {
  datasets: Record<string, { rows: number; columns: string[] }>;
  globbed: Record<string, number>;
  unreadable: Record<string, string>;
}

let producerDir = '';
let lakeDir = '';
let store: ObjectStore;
let build: LakeFeatureBuild;
let generation: GenerationSummary;
let producerFiles: Map<string, string>;
let rawBefore: Map<string, string>;
let rawAfter: Map<string, string>;
let readers: Readers;

/** Every file under `dir`, dot-files included, by path relative to it: "size mtime-ns inode". */
function filesOnDisk(dir: string, base = dir, out = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesOnDisk(path, base, out);
    else {
      const s = statSync(path, { bigint: true });
      out.set(path.slice(base.length + 1), `${s.size} ${s.mtimeNs} ${s.ino}`);
    }
  }
  return out;
}

test.before(async () => {
  producerDir = mkdtempSync(join(tmpdir(), 'carepipe-producer-'));
  const producer = new FileStore({ root: producerDir });
  generation = await writeRawLake(producer, { patients: 120, days: 6, seed: 41, messiness: { impossibleRate: 0.03 } });
  const local = localLake('lake-readers');
  lakeDir = local.dir;
  store = local.deps.lake(local.lakeUri);
  // A producer writes plain files: only the data files, none of a FileStore's own.
  cpSync(join(producerDir, 'raw'), join(lakeDir, 'raw'), {
    recursive: true,
    preserveTimestamps: true,
    filter: (src) => !src.split('/').at(-1)!.startsWith('.'),
  });
  producerFiles = new Map([...filesOnDisk(join(producerDir, 'raw'))].filter(([path]) => !path.split('/').some((s) => s.startsWith('.'))));
  rawBefore = filesOnDisk(join(lakeDir, 'raw'));
  await ingestAll(local.deps, local.lakeUri, 4);
  build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: 4 });
  rawAfter = filesOnDisk(join(lakeDir, 'raw'));
  const script = join(REPO_ROOT, 'tests', 'activities', 'lake_readers.py');
  readers = JSON.parse(execFileSync('python3', [script, lakeDir], { maxBuffer: 1 << 26 }).toString()) as Readers;
});

test.after.always(() => {
  for (const dir of [producerDir, lakeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('raw/ holds exactly the files the producer wrote, untouched, after ingest and the feature build.', (t) => {
  t.is(rawBefore.size, sum(Object.values(generation.filesByTable)));
  t.deepEqual([...rawBefore.keys()].sort(), [...producerFiles.keys()].sort());
  t.deepEqual([...rawAfter].sort(), [...rawBefore].sort());
});

test("every file under the lake root, dot-folders included, is one of the store's objects: the store keeps no file of its own per object.", async (t) => {
  const zones = readdirSync(lakeDir).filter((name) => !name.startsWith('.'));
  t.true(
    ['raw', 'curated', 'rejects', 'features', 'manifests'].every((zone) => zones.includes(zone)),
    zones.join(', '),
  );
  const onDisk = [...filesOnDisk(lakeDir).keys()];
  const objects = await listKeys(store, '');
  t.true(objects.length > 50, `${objects.length} objects: enough that a per-object file would show`);
  t.deepEqual(onDisk.sort(), objects.sort());
});

test('pyarrow reads every table of raw/, curated/ and rejects/ and the feature version as Hive-partitioned datasets, with every row.', async (t) => {
  t.deepEqual(readers.unreadable, {});
  const expected: Record<string, number> = {};
  for (const key of await listKeys(store, '')) {
    if (!key.endsWith('.parquet')) continue;
    const parts = key.split('/');
    const name = parts[0] === 'features' ? parts.slice(0, 3).join('/') : parts.slice(0, 2).join('/');
    expected[name] = (expected[name] ?? 0) + (await readTable(store, key)).numRows;
  }
  for (const table of RAW_TABLES) {
    t.is(expected[`raw/${table}`], generation.rows[table], `raw/${table}`);
    t.true((expected[`curated/${table}`] ?? 0) > 0, `curated/${table}`);
  }
  t.true(
    Object.keys(expected).some((name) => name.startsWith('rejects/')),
    'the lake has rejects',
  );
  t.is(expected[`features/readmission/${build.version}`], build.rows);
  t.deepEqual(Object.fromEntries(Object.entries(readers.datasets).map(([name, d]) => [name, d.rows])), expected);
  for (const table of RAW_TABLES) {
    t.true(
      ['bucket', 'ingest_date'].every((c) => readers.datasets[`curated/${table}`]?.columns.includes(c)),
      `curated/${table} partitions`,
    );
  }
});

test('a **/*.parquet glob from the lake root, dot-files included, matches only the Parquet objects the store lists.', async (t) => {
  const parquetKeys = (await listKeys(store, '')).filter((key) => key.endsWith('.parquet'));
  t.deepEqual([...new Set(parquetKeys.map((key) => key.split('/')[0]))].sort(), ['curated', 'features', 'raw', 'rejects']);
  t.deepEqual(Object.keys(readers.globbed).sort(), parquetKeys.sort());
  t.deepEqual(readers.unreadable, {});
});
