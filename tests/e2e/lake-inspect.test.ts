/**
 * `carepipe lake inspect` as an operator runs it, on file:// URIs: a fixture's footer (rows, row
 * groups, compression, encodings, statistics against the fixture's expected values), PHI bounds
 * redacted unless asked for, and a quarantined file with the reason ingest recorded beside it.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ingestFiles } from '../../activities/ingest/ingest-file.js';
import type { InspectResult } from '../../activities/io/parquet-inspect.js';
import { REPO_ROOT } from '../../core/config.js';
import { lake } from '../../data-lake/layout.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { localLake } from '../helpers/features-lake.js';
import { patientColumns, patientsFile } from '../helpers/hostile-parquet.js';

const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'parquet');
const EXPECTED = (
  JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
    files: Record<string, { rows: number; row_groups: number; columns: Record<string, { values: unknown[] }> }>;
  }
).files;
const env = () => cliEnv({ CAREPIPE_STATE_DIR: mkdtempSync(join(tmpdir(), 'carepipe-inspect-state-')) });
const dirs: string[] = [];
test.after.always(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('lake inspect --json on a fixture reports its rows, row groups, compression, encodings and statistics', async (t) => {
  const uri = pathToFileURL(join(FIXTURES, 'lab_row_groups_of_3.parquet')).href;
  const r = await runCli(['lake', 'inspect', uri, '--json'], env());
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as InspectResult;
  const expected = EXPECTED['lab_row_groups_of_3.parquet']!;
  t.is(out.rows, expected.rows);
  t.is(out.rowGroups!.length, expected.row_groups);
  t.deepEqual(
    out.columns!.map((c) => c.path),
    Object.keys(expected.columns),
  );
  const value = out.columns!.find((c) => c.path === 'value')!;
  const values = expected.columns.value!.values.filter((v): v is number => typeof v === 'number');
  t.is(value.min, Math.min(...values));
  t.is(value.max, Math.max(...values));
  t.is(value.nullCount, expected.columns.value!.values.length - values.length);
  t.is(value.physicalType, 'DOUBLE');
  t.true(value.codecs.length > 0 && value.encodings.length > 0);
  // patient_id is PHI and a byte array: its bounds are redacted unless asked for.
  t.regex(String(out.columns!.find((c) => c.path === 'patient_id')!.min), /^<redacted, \d+ bytes>$/);
  const shown = JSON.parse((await runCli(['lake', 'inspect', uri, '--json', '--show-values'], env())).stdout) as InspectResult;
  t.notRegex(String(shown.columns!.find((c) => c.path === 'patient_id')!.min), /redacted/);
});

test('lake inspect on a prefix shows each file, and a quarantined file with its reason', async (t) => {
  const l = localLake('inspect-quarantine');
  dirs.push(l.dir);
  const store = l.deps.lake(l.lakeUri);
  const good = patientsFile(patientColumns());
  const keys = [`${lake.rawDatePrefix('patients', '2024-01-01')}good.parquet`, `${lake.rawDatePrefix('patients', '2024-01-01')}cut.parquet`];
  await store.put(keys[0]!, good);
  await store.put(keys[1]!, good.subarray(0, good.length - 20));
  const results = await ingestFiles(l.deps, { lake: l.lakeUri, keys, bucketCount: 2 });
  t.deepEqual(
    results.map((r) => r.status),
    ['ingested', 'quarantined'],
  );
  const r = await runCli(['lake', 'inspect', `${l.lakeUri}/quarantine/`], env());
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^patients\/ingest_date=2024-01-01\/cut\.parquet {2}\d+ B$/m);
  t.regex(r.stdout, /^ {2}quarantined: CorruptFileError: parquet: /m);
  t.regex(r.stdout, /^ {2}unreadable: parquet: cannot read the footer of|^ {2}unreadable: parquet: .*(footer|PAR1)/m);
  const raw = await runCli(['lake', 'inspect', `${l.lakeUri}/raw/patients/`], env());
  t.is(raw.code, 0, raw.stderr);
  t.regex(raw.stdout, /good\.parquet .* 5 rows in 1 row group\(s\)/);
  t.regex(raw.stdout, /"birth_date" INT32\/DATE .*min <redacted, 4 bytes>/, 'birth_date is PHI: redacted although numeric');
  const missing = await runCli(['lake', 'inspect', `${l.lakeUri}/nothing-here/`], env());
  t.is(missing.code, 2);
  t.regex(missing.stderr, /no object at .*nothing-here/);
});
