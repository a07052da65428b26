/**
 * The bench's raw lakes, generated once and reused: `.test-artifacts/bench-lakes/<patients>-<days>-<seed>/`
 * (or CAREPIPE_BENCH_LAKES) holds `raw/` and a `done.json` marker written last, so an interrupted
 * generation is redone rather than half used. The cache holds one day more than the bench's year:
 * the year run reads days 1..N and the incremental run adds day N+1, as a landing zone grows.
 * (A lake generated for N days is not a prefix of one generated for N+1: the last day closes the
 * stays still open at its cutoff. So both runs come from the one N+1 generation.)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile, link, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore } from '../../activities/io/file-store.js';
import { REPO_ROOT } from '../../core/config.js';
import { RAW_TABLES } from '../../data-lake/layout.js';
import { YEAR_OF_DAILY_FILES, writeRawLake } from '../../data-lake/generator/index.js';

export interface CachedLake {
  /** Folder holding raw/ (and the generator's ground-truth/). */
  root: string;
  patients: number;
  /** Days of the year run; the cache holds one more. */
  days: number;
  seed: number;
  /** Ingest dates in order, days + 1 of them. */
  dates: string[];
  rawFiles: number;
  rawBytes: number;
  rawRows: number;
}

export function lakesDir(): string {
  return process.env.CAREPIPE_BENCH_LAKES ?? join(REPO_ROOT, '.test-artifacts', 'bench-lakes');
}

/** Generates (once) a lake of `days + 1` daily files per table, as YEAR_OF_DAILY_FILES writes them. */
export async function cachedLake(patients: number, days: number, seed: number, log: (line: string) => void): Promise<CachedLake> {
  const root = join(lakesDir(), `${patients}-${days}-${seed}`);
  const marker = join(root, 'done.json');
  if (existsSync(marker)) return JSON.parse(readFileSync(marker, 'utf8')) as CachedLake;
  log(`generating ${patients} patients x ${days + 1} days into ${root} (once; reused by later runs)`);
  await mkdir(root, { recursive: true });
  const store = new FileStore({ root });
  // One chunk: a daily file per table, as a hospital's extract sends it (chunks would split each day
  // into patients/5000 files). Memory is the generator's, for all patients at once.
  const summary = await writeRawLake(store, { ...YEAR_OF_DAILY_FILES, patients, days: days + 1, seed, patientsPerChunk: patients }, (p) =>
    log(`  generated ${p.patientsDone}/${p.patients} patients, ${p.filesWritten} files, ${(p.bytesWritten / 1e6).toFixed(0)} MB`),
  );
  const dates = (await readdir(join(root, 'raw', 'encounters'))).map((d) => d.slice('ingest_date='.length)).sort();
  let rawFiles = 0;
  let rawBytes = 0;
  for (const f of await rawFileList(root, dates)) {
    rawFiles++;
    rawBytes += f.bytes;
  }
  const lake: CachedLake = { root, patients, days, seed, dates, rawFiles, rawBytes, rawRows: Object.values(summary.rows).reduce((a, b) => a + b, 0) };
  writeFileSync(marker, JSON.stringify(lake, null, 2));
  return lake;
}

export interface RawFile {
  /** Lake key, raw/<table>/ingest_date=D/<name>. */
  key: string;
  path: string;
  bytes: number;
}

/** The raw files of the given ingest dates, every table. */
export async function rawFileList(root: string, dates: readonly string[]): Promise<RawFile[]> {
  const { stat } = await import('node:fs/promises');
  const out: RawFile[] = [];
  for (const table of RAW_TABLES) {
    for (const date of dates) {
      const dir = join(root, 'raw', table, `ingest_date=${date}`);
      const names = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort() : [];
      for (const name of names) {
        const path = join(dir, name);
        out.push({ key: `raw/${table}/ingest_date=${date}/${name}`, path, bytes: (await stat(path)).size });
      }
    }
  }
  return out;
}

/**
 * Puts the raw files of `dates` into a fresh file:// lake folder by hard link (the same bytes, no
 * copy; a copy where links cannot cross file systems). Never a symbolic link: FileStore does not
 * follow linked folders, and the product must read real files as it would in a landing zone.
 */
export async function linkRawDays(cache: CachedLake, dates: readonly string[], lakeRoot: string): Promise<number> {
  const files = await rawFileList(cache.root, dates);
  for (const f of files) {
    const target = join(lakeRoot, f.key);
    await mkdir(join(target, '..'), { recursive: true });
    if (existsSync(target)) continue;
    await link(f.path, target).catch(() => copyFile(f.path, target));
  }
  return files.length;
}
