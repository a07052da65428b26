/**
 * The lakes one bench run works on, fresh for each run: a file:// folder whose raw/ is the cached
 * files hard-linked in, or an s3:// bucket on the bench stack whose raw/ is copied in through the
 * S3 API. Also what a run leaves behind: objects and bytes under curated/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { parseConfig } from '../../core/config.js';
import { REPO_ROOT } from '../../core/config.js';
import { type CachedLake, linkRawDays, rawFileList } from './lake-cache.js';

export type LakeKind = 'file' | 's3';

export interface BenchLake {
  kind: LakeKind;
  uri: string;
  /** Where the references read the same raw files: a local folder. */
  localRoot: string;
}

const PUTS_IN_FLIGHT = 16;

/** A fresh lake named `name` holding the raw files of `dates`. */
export async function prepareLake(kind: LakeKind, name: string, cache: CachedLake, dates: readonly string[], s3Endpoint: string): Promise<BenchLake> {
  const localRoot = join(REPO_ROOT, '.test-artifacts', 'bench-runs', name);
  const { rmSync } = await import('node:fs');
  rmSync(localRoot, { recursive: true, force: true });
  await linkRawDays(cache, dates, localRoot);
  if (kind === 'file') return { kind, uri: `file://${localRoot}`, localRoot };
  const uri = `s3://${name}`;
  await copyDays({ kind, uri, localRoot }, cache, dates, s3Endpoint);
  return { kind, uri, localRoot };
}

/** Adds the raw files of `dates` to a lake (and to its local copy), as the landing zone grows. */
export async function addDays(lake: BenchLake, cache: CachedLake, dates: readonly string[], s3Endpoint: string): Promise<void> {
  await linkRawDays(cache, dates, lake.localRoot);
  if (lake.kind === 's3') await copyDays(lake, cache, dates, s3Endpoint);
}

async function copyDays(lake: BenchLake, cache: CachedLake, dates: readonly string[], s3Endpoint: string): Promise<void> {
  const config = parseConfig({ CAREPIPE_LAKE: lake.uri, CAREPIPE_S3_ENDPOINT: s3Endpoint, CAREPIPE_LOCAL_DEVELOPMENT: 'true' });
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  try {
    const files = await rawFileList(cache.root, dates);
    let next = 0;
    await Promise.all(
      Array.from({ length: PUTS_IN_FLIGHT }, async () => {
        while (next < files.length) {
          const f = files[next++]!;
          await store.put(f.key, await readFile(f.path), { contentType: 'application/vnd.apache.parquet' });
        }
      }),
    );
  } finally {
    store.close();
  }
}

/** Deletes the local folders of a bench run's lakes (`bench-runs/*<tag>`); the cache stays. */
export async function removeRunLakes(tag: string): Promise<void> {
  const { readdirSync, rmSync } = await import('node:fs');
  const dir = join(REPO_ROOT, '.test-artifacts', 'bench-runs');
  for (const name of readdirSync(dir)) if (name.endsWith(tag)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** Objects and bytes under a prefix of the lake. */
export async function zoneSize(lake: BenchLake, prefix: string, s3Endpoint: string): Promise<{ objects: number; bytes: number }> {
  const config = parseConfig({ CAREPIPE_LAKE: lake.uri, CAREPIPE_S3_ENDPOINT: s3Endpoint, CAREPIPE_LOCAL_DEVELOPMENT: 'true' });
  const store = openStore(config.lake, config.s3);
  try {
    let objects = 0;
    let bytes = 0;
    for await (const o of store.list(prefix)) {
      objects++;
      bytes += o.size;
    }
    return { objects, bytes };
  } finally {
    store.close();
  }
}
