/** The pipeline bench's tables: what one scale's runs measured, beside the references. */
import { printTable } from '../harness.js';
import type { CachedLake } from './lake-cache.js';
import type { ReferenceResult } from './references.js';
import type { PipelineRun } from './run.js';

const MB = 1e6;
const VERBS = ['get', 'getRange', 'head', 'put', 'list', 'delete'] as const;

export function printReferences(lake: CachedLake, days: number, refs: ReferenceResult[]): void {
  printTable(
    `references: readmission features from raw/ (${lake.patients} patients, ${days} days), all cores`,
    ['engine', 'version', 'index stays', 'censored', 'label rate', 'columns', 'seconds', 'load 1m'],
    refs.map((r) => [r.engine, r.version, r.rows, r.censored, r.label_rate, r.columns, r.seconds, r.load]),
  );
  process.stdout.write(`references skip: ${refs[0]?.skipped ?? ''}\n`);
}

export interface MainRow {
  lake: 'file' | 's3';
  run: PipelineRun;
  curated: { objects: number; bytes: number };
}

export function printMain(cache: CachedLake, rawBytes: number, refs: { polars: ReferenceResult; duckdb: ReferenceResult }, rows: MainRow[]): void {
  printTable(
    `carepipe raw -> features, 1 worker process (${cache.patients} patients, ${cache.days} days, raw ${(rawBytes / MB).toFixed(0)} MB), beside polars ${refs.polars.seconds.toFixed(1)} s and DuckDB ${refs.duckdb.seconds.toFixed(1)} s`,
    [
      'lake',
      'ingest s',
      'features s',
      'total s',
      'x polars',
      'x duckdb',
      'index stays',
      'polars stays',
      'label rate',
      'peak RSS MiB ingest/features',
      'curated objects',
      'curated MB',
      'load 1m',
    ],
    rows.map(({ lake, run, curated }) => {
      const total = run.ingest.seconds + run.features.seconds;
      return [
        lake,
        run.ingest.seconds,
        run.features.seconds,
        total,
        total / refs.polars.seconds,
        total / refs.duckdb.seconds,
        run.features.result.rows,
        refs.polars.rows,
        run.features.result.labelledRows > 0 ? run.features.result.labelledPositives / run.features.result.labelledRows : 0,
        `${run.ingest.peakMiB.map((m) => m.toFixed(0)).join('+')} / ${run.features.peakMiB.map((m) => m.toFixed(0)).join('+')}`,
        curated.objects,
        curated.bytes / MB,
        `${run.ingest.load.toFixed(1)} / ${run.features.load.toFixed(1)}`,
      ];
    }),
  );
  printTable(
    'requests to the lake store, workers of both stages (file://: a folder read is a list, and a listing heads each object)',
    ['lake', 'stage', ...VERBS, 'objects written', 'objects read'],
    rows.flatMap(({ lake, run }) =>
      (['ingest', 'features'] as const).map((stage) => {
        const r: Record<string, number> = {};
        for (const [k, v] of Object.entries(run[stage].requests)) if (k.startsWith(`${lake}:`)) r[k.slice(lake.length + 1)] = v;
        return [lake, stage, ...VERBS.map((v) => r[v] ?? 0), r.put ?? 0, (r.get ?? 0) + (r.getRange ?? 0)];
      }),
    ),
  );
}

export interface IncrementalRow {
  lake: 'file' | 's3';
  run: PipelineRun;
  reusedBuckets: string;
}

export function printIncremental(day: string, polarsFull: ReferenceResult, rows: IncrementalRow[]): void {
  printTable(
    `incremental day ${day}: one more day of raw files on the year's lake, beside polars rebuilding everything (${polarsFull.seconds.toFixed(1)} s)`,
    ['lake', 'files ingested', 'files skipped', 'ingest s', 'shards built', 'shards reused', 'features s', 'total s', 'x polars full', 'reused buckets'],
    rows.map(({ lake, run, reusedBuckets }) => {
      const total = run.ingest.seconds + run.features.seconds;
      const i = run.ingest.result;
      return [
        lake,
        i.files - i.skippedFiles,
        i.skippedFiles,
        run.ingest.seconds,
        run.features.result.builtShards,
        run.features.result.reusedShards,
        run.features.seconds,
        total,
        total / polarsFull.seconds,
        reusedBuckets,
      ];
    }),
  );
}

export interface ScaleOutRow {
  layout: string;
  run: PipelineRun;
}

export function printScaleOut(polars: ReferenceResult, rows: ScaleOutRow[]): void {
  const base = rows[0] ? rows[0].run.ingest.seconds + rows[0].run.features.seconds : Number.NaN;
  printTable(
    'scale-out on the file:// lake: the same year run with more worker processes (same machine)',
    ['layout', 'ingest s', 'features s', 'total s', 'speed-up vs 1', 'x polars', 'peak RSS MiB per process (ingest / features)', 'feature activities by queue'],
    rows.map(({ layout, run }) => {
      const total = run.ingest.seconds + run.features.seconds;
      const queues = Object.entries(run.features.activitiesByQueue)
        .map(([q, n]) => `${q.replace(/^.*-/, '')} ${n}`)
        .join(', ');
      return [
        layout,
        run.ingest.seconds,
        run.features.seconds,
        total,
        base / total,
        total / polars.seconds,
        `${run.ingest.peakMiB.map((m) => m.toFixed(0)).join('+')} / ${run.features.peakMiB.map((m) => m.toFixed(0)).join('+')}`,
        queues,
      ];
    }),
  );
  const split = rows.find((r) => r.layout.includes('|'));
  if (split && !Object.keys(split.run.features.activitiesByQueue).some((q) => q.endsWith('-features'))) {
    process.stdout.write(
      'note: no activity ran on the features queue, so "data | features" ran the feature build on the data process: ' +
        'workflows/features.ts does not call featureShardActivity/featureBookkeeping yet.\n',
    );
  }
}
