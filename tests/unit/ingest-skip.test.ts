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
import { writeRawLake } from '../../data-lake/generator/index.js';
import { ingestAll, localLake } from '../helpers/features-lake.js';

const dirs: string[] = [];
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
