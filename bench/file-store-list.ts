/**
 * `npm run bench -- --only store`: what a file:// lake costs to list and to write. A producer
 * writes a raw zone of plain files (4 tables, one file a day, 140 KiB each: the mean raw file of
 * issue 12's year-long lake); FileStore lists it once after it lands (the first listing ingest
 * makes) and again (the listing of the next page or run); then FileStore writes as many objects,
 * and the files on disk are counted beside the objects the store lists, which must be equal: the
 * store keeps no file of its own per object. Needs no stack.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileStore } from '../activities/io/file-store.js';
import { printTable } from './harness.js';

const TABLES = ['patients', 'encounters', 'diagnoses', 'lab_results'];
const FILE_BYTES = 140 * 1024;

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}

async function timed(fn: () => Promise<number>): Promise<{ ms: number; n: number }> {
  const started = performance.now();
  const n = await fn();
  return { ms: performance.now() - started, n };
}

/** How many objects `list` yields under `prefix`, after checking each has the size written. */
async function listAll(store: FileStore, prefix: string): Promise<number> {
  let n = 0;
  for await (const o of store.list(prefix)) {
    if (o.size !== FILE_BYTES) throw new Error(`bench: ${o.key} lists ${o.size} bytes, ${FILE_BYTES} were written`);
    n++;
  }
  return n;
}

export async function benchFileStoreListing(files = 1000): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-bench-store-'));
  try {
    const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + Math.floor(i / TABLES.length) * 86_400_000).toISOString().slice(0, 10);
    const rawKey = (i: number) => `raw/${TABLES[i % TABLES.length]}/ingest_date=${day(i)}/part-0.parquet`;
    const body = randomBytes(FILE_BYTES);
    for (let i = 0; i < files; i++) {
      await mkdir(join(root, rawKey(i), '..'), { recursive: true });
      await writeFile(join(root, rawKey(i)), body);
    }
    const store = new FileStore({ root });
    const first = await timed(() => listAll(store, 'raw/'));
    const again: number[] = [];
    for (let run = 0; run < 5; run++) again.push((await timed(() => listAll(store, 'raw/'))).ms);
    again.sort((a, b) => a - b);
    const put = await timed(async () => {
      for (let i = 0; i < files; i++) await store.put(rawKey(i).replace(/^raw\//, 'curated/'), body);
      return files;
    });
    const objects = await listAll(store, '');
    const onDisk = await countFiles(root);
    printTable(
      `file:// store: ${files} raw files of ${FILE_BYTES / 1024} KiB, then ${files} objects written by the store`,
      ['measure', 'value'],
      [
        ['first listing of raw/, ms', first.ms.toFixed(0)],
        ['next listing of raw/ (median of 5), ms', again[2]!.toFixed(0)],
        [`${files} puts, ms`, put.ms.toFixed(0)],
        ['objects listed', objects],
        ['files on disk under the root', onDisk],
      ],
    );
    if (first.n !== files) throw new Error(`bench: listed ${first.n} raw files, wrote ${files}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
