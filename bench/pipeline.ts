/**
 * `npm run bench -- --only pipeline`: carepipe raw -> features (ingest, compaction, feature build)
 * through real worker processes on the bench stack, for a file:// and an s3:// lake, beside polars
 * and DuckDB building the same features from the same raw files in the same run (issue 12). Then
 * one more day on top of the year (incremental), the year again with 2 worker processes and with
 * the data stage and the feature build on separate processes, and with `--profile` where the
 * slowest stage's CPU time goes. The raw lakes are generated once into a cache (lake-cache.ts).
 *
 * Options: --scales a,b (patients; default 200000), --days N (default 365), --seed N, --quick
 * (2,000 patients x 30 days), --lakes file,s3, --no-scale-out, --no-incremental, --profile, --keep-lakes,
 * --references-only (polars and DuckDB alone: no stack needed).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { REPO_ROOT } from '../core/config.js';
import type { stackAddresses } from '../infra/stack.js';
import { printTable } from './harness.js';
import { cachedLake } from './pipeline/lake-cache.js';
import { addDays, type LakeKind, prepareLake, removeRunLakes, zoneSize } from './pipeline/lakes.js';
import { topSelfTime } from './pipeline/profile.js';
import { runReference, runReferences } from './pipeline/references.js';
import { type Layout, runPipeline } from './pipeline/run.js';
import { type IncrementalRow, type MainRow, type ScaleOutRow, printIncremental, printMain, printReferences, printScaleOut } from './pipeline/tables.js';

export interface PipelineBenchOptions {
  scales: number[];
  days: number;
  seed: number;
  lakes: LakeKind[];
  incremental: boolean;
  scaleOut: boolean;
  profile: boolean;
  keepLakes: boolean;
}

export function pipelineOptions(args: string[]): PipelineBenchOptions & { referencesOnly: boolean } {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quick = args.includes('--quick');
  return {
    scales: (flag('--scales') ?? (quick ? '2000' : '200000')).split(',').map(Number),
    days: Number(flag('--days') ?? (quick ? 30 : 365)),
    seed: Number(flag('--seed') ?? 1),
    lakes: (flag('--lakes') ?? 'file,s3').split(',') as LakeKind[],
    incremental: !args.includes('--no-incremental'),
    scaleOut: !args.includes('--no-scale-out'),
    profile: args.includes('--profile'),
    keepLakes: args.includes('--keep-lakes'),
    referencesOnly: args.includes('--references-only'),
  };
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** polars and DuckDB alone on the year's raw files (no stack): their figures at a scale. */
export async function benchReferencesOnly(opts: PipelineBenchOptions): Promise<void> {
  for (const patients of opts.scales) {
    const cache = await cachedLake(patients, opts.days, opts.seed, log);
    const lake = await prepareLake('file', `refs-${patients}-${opts.days}`, cache, cache.dates.slice(0, opts.days), '');
    const refs = runReferences(lake.localRoot);
    printReferences(cache, opts.days, [refs.polars, refs.duckdb]);
  }
}

export async function benchPipeline(addresses: ReturnType<typeof stackAddresses>, opts: PipelineBenchOptions): Promise<void> {
  for (const patients of opts.scales) {
    const cache = await cachedLake(patients, opts.days, opts.seed, log);
    const yearDates = cache.dates.slice(0, opts.days);
    const extraDay = cache.dates[opts.days]!;
    const tag = `${patients}-${opts.days}-${Date.now().toString(36)}`;
    const refLake = await prepareLake('file', `refs-${tag}`, cache, yearDates, addresses.s3Endpoint);
    const refs = runReferences(refLake.localRoot);
    const rawBytes = (await zoneSize(refLake, 'raw/', addresses.s3Endpoint)).bytes;
    printReferences(cache, opts.days, [refs.polars, refs.duckdb]);

    const main: MainRow[] = [];
    const incremental: IncrementalRow[] = [];
    const profileDir = opts.profile ? join(REPO_ROOT, '.test-artifacts', 'bench-profile', tag) : undefined;
    for (const kind of opts.lakes) {
      const lake = await prepareLake(kind, `bench-${kind}-${tag}`, cache, yearDates, addresses.s3Endpoint);
      const prefix = `bench-${kind}-${tag}`;
      const run = await runPipeline({ addresses, lake, layout: 'one', prefix, profileDir: kind === opts.lakes[0] ? profileDir : undefined }, `${kind} year`);
      main.push({ lake: kind, run, curated: await zoneSize(lake, 'curated/', addresses.s3Endpoint) });
      if (opts.incremental) {
        await addDays(lake, cache, [extraDay], addresses.s3Endpoint);
        const next = await runPipeline({ addresses, lake, layout: 'one', prefix }, `${kind} +1 day`);
        incremental.push({
          lake: kind,
          run: next,
          reusedBuckets: await reusedBuckets(lake.localRoot, kind, lake.uri, addresses.s3Endpoint, next.features.result.version),
        });
      }
    }
    printMain(cache, rawBytes, refs, main);
    if (profileDir && main[0]) printProfile(profileDir, main[0]);
    if (opts.incremental) {
      const fullLake = await prepareLake('file', `refs-full-${tag}`, cache, cache.dates, addresses.s3Endpoint);
      printIncremental(extraDay, runReference('polars', fullLake.localRoot), incremental);
    }
    if (opts.scaleOut) {
      const rows: ScaleOutRow[] = main[0] && main[0].lake === 'file' ? [{ layout: '1 process', run: main[0].run }] : [];
      for (const [layout, label] of [
        ['two', '2 processes'],
        ['split', 'data | features'],
      ] as [Layout, string][]) {
        const lake = await prepareLake('file', `bench-${layout}-${tag}`, cache, yearDates, addresses.s3Endpoint);
        rows.push({ layout: label, run: await runPipeline({ addresses, lake, layout, prefix: `bench-${layout}-${tag}` }, `file year, ${label}`) });
      }
      printScaleOut(refs.polars, rows);
    }
    // The run's file:// lakes are hard links and derived zones: gigabytes at scale. --keep-lakes keeps them to inspect.
    if (!opts.keepLakes) await removeRunLakes(tag);
  }
}

function printProfile(dir: string, row: MainRow): void {
  const stage = row.run.ingest.seconds >= row.run.features.seconds ? 'ingest' : 'features';
  const { totalMs, files, functions, areas } = topSelfTime(join(dir, stage));
  printTable(
    `profile of the slowest stage (${stage}, ${row.lake} lake): top self time over ${files} profiles (worker processes and curator threads), ${(totalMs / 1000).toFixed(1)} CPU s not idle; in ${join(dir, stage)}`,
    ['function', 'where', 'self ms', 'share'],
    functions.map((f) => [f.name, f.where, f.selfMs, `${(f.share * 100).toFixed(1)}%`]),
  );
  printTable(
    `the same self time by area (package, carepipe folder, node internals, engine)`,
    ['area', 'self ms', 'share'],
    areas.map((a) => [a.area, a.selfMs, `${(a.share * 100).toFixed(1)}%`]),
  );
}

/** The buckets whose shards the new version took from an earlier one, from its plan (best effort: the plan's format may change). */
async function reusedBuckets(localRoot: string, kind: LakeKind, uri: string, s3Endpoint: string, version: string): Promise<string> {
  try {
    let text: string;
    const key = `features/bench/${version}/plan.json`;
    if (kind === 'file') text = await readFile(join(localRoot, key), 'utf8');
    else {
      const { openStore } = await import('../activities/io/open-store.js');
      const { parseConfig } = await import('../core/config.js');
      const config = parseConfig({ CAREPIPE_LAKE: uri, CAREPIPE_S3_ENDPOINT: s3Endpoint, CAREPIPE_LOCAL_DEVELOPMENT: 'true' });
      const store = openStore(config.lake, config.s3);
      text = new TextDecoder().decode(await store.get(key));
      store.close();
    }
    const plan = JSON.parse(text) as { buckets?: { bucket: number; reuse?: unknown }[] };
    const reused = (plan.buckets ?? []).filter((b) => b.reuse !== undefined).map((b) => b.bucket);
    return reused.length === 0 ? 'none' : reused.length === plan.buckets?.length ? 'all' : reused.join(' ');
  } catch {
    return '?';
  }
}
