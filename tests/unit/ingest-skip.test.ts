/**
 * A scheduled run lists a year of raw files to ingest one more day: files whose manifest recorded
 * the same object (etag and size) are skipped without their bytes being read; a file replaced
 * since is read and curated again. In-process, on a file:// lake.
 */
import test from 'ava';
import { rmSync } from 'node:fs';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { ingestFile } from '../../activities/ingest/ingest-file.js';
import { YEAR_OF_DAILY_FILES, writeRawLake } from '../../data-lake/generator/index.js';
import type { DayManifest } from '../../activities/ingest/day-manifests.js';
import { listRawFiles } from '../../activities/ingest/list-raw.js';
import type { IngestFileResult } from '../../schemas/workflows.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const dirs: string[] = [];
const DAY_RE = /^manifests\/ingest\/[a-z_]+\/ingest_date=[0-9-]+\.json$/;
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The store, recording the keys whose bytes are read. */
function counting(store: ObjectStore, reads: string[]): ObjectStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'get') return (key: string) => (reads.push(key), target.get(key));
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('an unchanged raw file is skipped without reading it; a replaced one is read and curated again', async (t) => {
  const l = localLake('ingest-skip');
  dirs.push(l.dir);
  const store = l.deps.lake(l.lakeUri);
  await writeRawLake(store, { patients: 100, days: 20, seed: 3, messiness: 'none' });
  await ingestAll(l.deps, l.lakeUri, 2);
  const reads: string[] = [];
  const deps = { ...l.deps, lake: () => counting(store, reads) };
  await ingestAll(deps, l.lakeUri, 2);
  const rawKeys: string[] = [];
  for await (const o of store.list('raw/')) if (o.key.endsWith('.parquet')) rawKeys.push(o.key);
  t.true(rawKeys.length > 10);
  t.deepEqual(
    reads.filter((k) => k.startsWith('raw/')),
    [],
    'no raw byte read on the rerun',
  );

  const target = rawKeys.find((k) => k.startsWith('raw/encounters/'))!;
  const original = readParquet(await store.get(target));
  await store.put(target, writeParquet(original.slice(0, original.numRows - 1)));
  reads.length = 0;
  const result = await ingestFile(deps, { lake: l.lakeUri, key: target, bucketCount: 2 });
  t.is(result.status, 'ingested');
  t.is(result.rowsIn, original.numRows - 1);
  t.deepEqual(
    reads.filter((k) => k.startsWith('raw/')),
    [target],
    'the replaced file is read',
  );
});

test('a rerun over a year of days skips at the listing from the day manifests alone; a replaced file, a moved file manifest and other settings are not skipped', async (t) => {
  const l = localLake('ingest-skip-list');
  dirs.push(l.dir);
  const store = l.deps.lake(l.lakeUri);
  await writeRawLake(store, { ...YEAR_OF_DAILY_FILES, patients: 60, days: 40, seed: 5 });
  await ingestAll(l.deps, l.lakeUri, 2);
  const reads: string[] = [];
  const deps = { ...l.deps, lake: () => counting(store, reads) };
  const days = new Map<string, DayManifest>();
  for await (const o of store.list('manifests/ingest/'))
    if (DAY_RE.test(o.key)) days.set(o.key, JSON.parse(new TextDecoder().decode(await store.get(o.key))) as DayManifest);

  const listAll = async (bucketCount: number) => {
    const out: { keys: string[]; skipped: IngestFileResult[] } = { keys: [], skipped: [] };
    for (let startAfter = ''; ;) {
      const page = await listRawFiles(deps, { lake: l.lakeUri, startAfter, limit: 50, bucketCount });
      out.keys.push(...page.keys);
      out.skipped.push(...(page.skipped ?? []));
      if (page.nextStartAfter === undefined) return out;
      startAfter = page.nextStartAfter;
    }
  };
  const first = await listAll(2);
  t.deepEqual(first.keys, [], 'every file is unchanged');
  const files = [...days.values()].flatMap((d) => d.files);
  t.is(first.skipped.length, files.length);
  t.is(
    first.skipped.reduce((n, r) => n + r.rowsIn, 0),
    [...days.values()].reduce((n, d) => n + d.rowsIn, 0),
    'the skipped files carry their accounting',
  );
  t.deepEqual([...new Set(reads)].sort(), [...days.keys()].sort(), 'only day manifests are read: no raw object, no file manifest');

  // A replaced raw file; a file manifest rewritten after its day manifest summed it (same bytes, another object).
  const [replaced, moved] = files.filter((f) => f.status === 'ingested').map((f) => f.source);
  const original = readParquet(await store.get(replaced!));
  await store.put(replaced!, writeParquet(original.slice(0, original.numRows - 1)));
  const movedParts = /^raw\/([^/]+)\/ingest_date=([^/]+)\/(.+)$/.exec(moved!)!;
  const movedManifest = `manifests/ingest/${movedParts[1]}/ingest_date=${movedParts[2]}/files/${movedParts[3]}.json`;
  await store.put(movedManifest, await store.get(movedManifest));
  const second = await listAll(2);
  t.deepEqual(second.keys.sort(), [replaced!, moved!].sort());
  t.is(second.skipped.length, files.length - 2);
  t.deepEqual((await listAll(3)).skipped, [], 'another bucket count skips nothing at the listing');

  // The run goes on: the moved manifest's file is skipped by ingestFiles, the replaced one curated; only their days are summed again.
  reads.length = 0;
  await ingestAll(deps, l.lakeUri, 2, { compact: false });
  const fileManifestsRead = reads.filter((k) => k.includes('/files/'));
  const touchedDays = new Set([replaced!, moved!].map((k) => k.split('/').slice(1, 3).join('/')));
  t.true(
    fileManifestsRead.every((k) => touchedDays.has(k.split('/').slice(2, 4).join('/'))),
    `file manifests read only for the touched days: ${fileManifestsRead.join(', ')}`,
  );
  const third = await listAll(2);
  t.deepEqual(third.keys, [], 'after the run, everything is unchanged again');
});
