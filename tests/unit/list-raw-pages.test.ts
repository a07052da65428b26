/**
 * listRawFiles pages through a year of raw files touching each object about once: each page
 * resumes at its cursor (StartAfter) and a date range is a span of one listing per table, so a
 * paged listing of the whole zone touches about as many objects as the zone holds, not the
 * pages x objects / 2 it took when every page listed raw/ from the start. The pages read together
 * are the zone's raw Parquet keys in key order, as before.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { listRawFiles } from '../../activities/ingest/list-raw.js';
import { compareKeys } from '../../activities/io/store-keys.js';
import { lake, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { RawFilePage } from '../../schemas/workflows.js';
import { CountingStore } from '../helpers/counting-store.js';
import { localLake } from '../helpers/features-lake.js';

const FILES_PER_DAY = 2;
const PAGE = 50;

function day(first: string, offset: number): string {
  return new Date(Date.parse(`${first}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

/** A raw zone of `days` daily folders per table, with a few keys that are not raw Parquet files. */
async function rawZone(name: string, days: number) {
  const local = localLake(name);
  const keys: string[] = [];
  for (const table of RAW_TABLES) {
    for (let d = 0; d < days; d++) {
      for (let f = 0; f < FILES_PER_DAY; f++) keys.push(`${lake.rawDatePrefix(table, day('2025-01-01', d))}part-${f}.parquet`);
    }
  }
  const other = ['raw/encounters/ingest_date=2025-01-02/_SUCCESS', 'raw/encounters/notes/readme.parquet', 'raw/unknown_table/ingest_date=2025-01-02/a.parquet'];
  await Promise.all(
    [...keys, ...other].map(async (key) => {
      await mkdir(dirname(join(local.dir, key)), { recursive: true });
      await writeFile(join(local.dir, key), key);
    }),
  );
  const store = new CountingStore(local.deps.lake(local.lakeUri));
  local.deps.lake = () => store;
  return { ...local, store, keys: keys.sort(compareKeys), cleanUp: () => rm(local.dir, { recursive: true, force: true }) };
}

type Zone = Awaited<ReturnType<typeof rawZone>>;

/** Every page of a listing, from the first; the store's counts cover exactly these calls. */
async function allPages(zone: Zone, range: { from?: string; to?: string; tables?: RawTable[] } = {}): Promise<RawFilePage[]> {
  zone.store.reset();
  const pages: RawFilePage[] = [];
  let startAfter = '';
  for (;;) {
    const page = await listRawFiles(zone.deps, { lake: zone.lakeUri, ...range, startAfter, limit: PAGE });
    pages.push(page);
    if (page.nextStartAfter === undefined) return pages;
    startAfter = page.nextStartAfter;
  }
}

/** Pages of `limit` keys, each but the last naming its last key as the next cursor. */
function checkPages(t: ExecutionContext, pages: RawFilePage[], expected: string[]): void {
  t.deepEqual(
    pages.flatMap((p) => p.keys),
    expected,
  );
  t.is(pages.length, Math.max(1, Math.ceil(expected.length / PAGE)));
  for (const [i, p] of pages.entries()) {
    if (i < pages.length - 1) t.deepEqual([p.keys.length, p.nextStartAfter], [PAGE, p.keys.at(-1)]);
    else t.is(p.nextStartAfter, undefined);
  }
}

test('paging through the whole raw zone touches each object about once, at half a year and at a year', async (t) => {
  const perFile: number[] = [];
  for (const days of [182, 365]) {
    const zone = await rawZone(`list-raw-${days}`, days);
    try {
      const pages = await allPages(zone);
      checkPages(t, pages, zone.keys);
      // One look past each page's end, and the non-raw keys inside the listed prefixes.
      t.true(
        zone.store.listed <= zone.keys.length + pages.length + 3,
        `${zone.store.listed} objects listed for ${zone.keys.length} files in ${pages.length} pages`,
      );
      t.true(zone.store.listCalls <= pages.length * RAW_TABLES.length);
      perFile.push(zone.store.listed / zone.keys.length);
      t.log(`${days} days: ${zone.keys.length} files, ${pages.length} pages, ${zone.store.listed} objects listed in ${zone.store.listCalls} listings`);
    } finally {
      await zone.cleanUp();
    }
  }
  // Twice the days, twice the pages: the objects touched per file stay flat (quadratic would double them).
  t.true(perFile[1]! < 1.05 && perFile[1]! - perFile[0]! < 0.02, perFile.join(', '));
});

/** The ingest date of a raw key. */
function dateOf(key: string): string {
  const at = key.indexOf('ingest_date=') + 'ingest_date='.length;
  return key.slice(at, at + 10);
}

test('a date range lists only the days in it, and a table filter only its tables', async (t) => {
  const zone = await rawZone('list-raw-range', 120);
  try {
    const from = day('2025-01-01', 30);
    const to = day('2025-01-01', 59);
    const expected = zone.keys.filter((k) => dateOf(k) >= from && dateOf(k) <= to);
    const pages = await allPages(zone, { from, to });
    checkPages(t, pages, expected);
    // Per page and table at most one key past the range's end or the page's end.
    t.true(
      zone.store.listed <= expected.length + pages.length * (RAW_TABLES.length + 1),
      `${zone.store.listed} objects listed for ${expected.length} in range`,
    );

    const two = await allPages(zone, { from, tables: ['lab_results', 'diagnoses'] });
    checkPages(
      t,
      two,
      zone.keys.filter((k) => /^raw\/(lab_results|diagnoses)\//.test(k) && dateOf(k) >= from),
    );
    t.true(zone.store.listed <= 2 * 90 * FILES_PER_DAY + two.length, 'the other tables and the days before the range are not listed');

    const one = await allPages(zone, { from: to, to });
    checkPages(
      t,
      one,
      zone.keys.filter((k) => dateOf(k) === to),
    );
    t.true(zone.store.listed <= RAW_TABLES.length * (FILES_PER_DAY + 1), 'a one-day listing touches that day and one key after it per table');
  } finally {
    await zone.cleanUp();
  }
});
