/**
 * The references: polars and DuckDB building the same readmission features from the same raw files
 * (bench/readmission_polars.py, bench/readmission_duckdb.py), on the machine's cores, timed by
 * themselves (reading, resolving corrections, building, writing one Parquet file).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pythonReference } from '../harness.js';

export interface ReferenceResult {
  engine: 'polars' | 'duckdb';
  version: string;
  rows: number;
  positives: number;
  censored: number;
  label_rate: number;
  columns: number;
  seconds: number;
  /** The contract rules the reference does not apply. */
  skipped: string;
  /** The 1-minute load average when it ended (see StageRun.load). */
  load: number;
}

export function runReference(engine: 'polars' | 'duckdb', lakeRoot: string): ReferenceResult {
  const outDir = join(lakeRoot, '..', 'reference-out');
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${engine}.parquet`);
  rmSync(out, { force: true });
  process.stderr.write(`[bench] ${engine}: readmission features from ${lakeRoot}/raw\n`);
  return { ...pythonReference<Omit<ReferenceResult, 'load'>>(`readmission_${engine}.py`, [lakeRoot, out]), load: loadavg()[0] ?? Number.NaN };
}

export function runReferences(lakeRoot: string): { polars: ReferenceResult; duckdb: ReferenceResult } {
  return { polars: runReference('polars', lakeRoot), duckdb: runReference('duckdb', lakeRoot) };
}
