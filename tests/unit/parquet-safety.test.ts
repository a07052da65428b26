/**
 * Hostile files through ingest's reading path (curateFile, as a curator thread runs it): each is
 * read, has rows rejected with a named reason, or is quarantined with a documented reason; the
 * decoder keeps working after each. In-process, no services.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vectorFromArray, Utf8 } from 'apache-arrow';
import { type CurateOutcome, type CurateRequest, curateFile } from '../../activities/ingest/curate.js';
import { QUARANTINE_REASONS } from '../../activities/ingest/reasons.js';
import { readFooter } from '../../activities/io/parquet-footer.js';
import { parquetWasmStats, setParquetWasmRecycleBytes } from '../../activities/io/parquet-runtime.js';
import { readParquet } from '../../activities/io/parquet.js';
import { REPO_ROOT } from '../../core/config.js';
import { nestedColumns, PATIENT_ROWS, patientColumns, patientsFile } from '../helpers/hostile-parquet.js';

const request = (bytes: Uint8Array, source = 'raw/patients/ingest_date=2024-01-01/p.parquet'): CurateRequest => ({
  bytes,
  source,
  table: 'patients',
  ingestDate: '2024-01-01',
  fileName: 'p.parquet',
  bucketCount: 4,
  pseudonymKey: { id: 'k1', secret: new Uint8Array(32).fill(7) },
});

function curated(_t: unknown, o: CurateOutcome): Extract<CurateOutcome, { kind: 'curated' }> {
  if (o.kind !== 'curated') throw new Error(`expected curated, got ${o.kind}: ${o.reason}`);
  return o;
}

test('A file of valid rows curates every row (the baseline the hostile files are built from).', (t) => {
  const o = curated(t, curateFile(request(patientsFile(patientColumns()))));
  t.deepEqual([o.rowsIn, o.accepted, o.rejected], [PATIENT_ROWS, PATIENT_ROWS, 0]);
});

/** pyarrow writes what Arrow JS's writer refuses: a string column holding bytes that are not UTF-8 (a binary array viewed as string). */
function nonUtf8PatientsFile(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-utf8-'));
  const script = [
    'import sys, pyarrow as pa, pyarrow.parquet as pq',
    "ids = pa.array([b'P0', b'P1', b'P2\\xff\\xfe', b'P3', b'P4'], pa.binary()).view(pa.string())",
    "t = pa.table({'patient_id': ids, 'first_name': ['Ann'] * 5, 'last_name': ['Lee'] * 5,",
    "  'birth_date': pa.array([0, 1, 2, 3, 4], pa.int32()).cast(pa.date32()), 'sex': ['F', 'M', 'F', 'M', 'F']})",
    'pq.write_table(t, sys.argv[1])',
  ].join('\n');
  try {
    execFileSync('python3', ['-c', script, join(dir, 'bad.parquet')]);
    return readFileSync(join(dir, 'bad.parquet'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('A string column with bytes that are not UTF-8 quarantines the file as InvalidUtf8Error, and the next file reads.', (t) => {
  const o = curateFile(request(nonUtf8PatientsFile()));
  t.is(o.kind, 'quarantine');
  if (o.kind !== 'quarantine') return;
  t.is(o.reasonType, 'InvalidUtf8Error');
  t.regex(o.reason, /non UTF-8 data/);
  t.notRegex(o.reason, /P2/, 'no value in the reason');
  t.true(Object.hasOwn(QUARANTINE_REASONS, o.reasonType));
  t.is(curated(t, curateFile(request(patientsFile(patientColumns())))).accepted, PATIENT_ROWS);
});

test('A 1 MB string rejects its row as string_too_long and keeps the others; the accounting holds.', (t) => {
  const columns = patientColumns();
  columns.race = vectorFromArray(['x', 'y'.repeat(2 ** 20), null, 'z', 'w'], new Utf8());
  const o = curated(t, curateFile(request(patientsFile(columns))));
  t.deepEqual([o.rowsIn, o.accepted, o.corrected, o.rejected], [PATIENT_ROWS, PATIENT_ROWS - 1, 0, 1]);
  t.deepEqual(o.rejectReasons, { string_too_long: 1 });
  const rejects = readParquet(o.rejects!);
  t.deepEqual(rejects.getChild('row_index')!.toArray(), Int32Array.of(1));
  t.deepEqual(rejects.getChild('reason')!.toArray(), ['string_too_long']);
  // The bound is a setting: a looser one accepts the row.
  const loose = curated(t, curateFile({ ...request(patientsFile(columns)), limits: { maxDecodedBytes: 2 ** 30, maxStringBytes: 2 ** 21 } }));
  t.is(loose.rejected, 0);
});

test('A string over the bound in a required column takes precedence over the rule the row would break.', (t) => {
  const columns = patientColumns();
  columns.sex = vectorFromArray(['M', 'F', 'Q'.repeat(70_000), 'M', 'F'], new Utf8());
  const o = curated(t, curateFile(request(patientsFile(columns))));
  t.deepEqual(o.rejectReasons, { string_too_long: 1 }, 'not invalid_sex: the value was never judged');
});

test('Deeply nested, map and list-of-struct columns beside the contract are read and ignored.', (t) => {
  const o = curated(t, curateFile(request(patientsFile({ ...patientColumns(), ...nestedColumns() }))));
  t.deepEqual([o.rowsIn, o.accepted, o.rejected], [PATIENT_ROWS, PATIENT_ROWS, 0]);
  const nested = patientsFile({ ...patientColumns(), ...nestedColumns() });
  const footer = readFooter(nested, nested.length, 'nested');
  t.true(footer.schema.some((n) => n.path.join('.') === 'deep.middle.inner.leaf' && n.depth === 4));
  t.true(footer.schema.some((n) => n.name === 'attributes' && n.logicalType === 'MAP'));
});

test('A contract column that is a map is a SchemaMismatchError naming the column.', (t) => {
  const { attributes } = nestedColumns();
  const o = curateFile(request(patientsFile({ ...patientColumns(), race: attributes! })));
  t.is(o.kind, 'quarantine');
  if (o.kind === 'quarantine') t.regex(o.reason, /column "race" has type Map/);
});

test('Column names with odd characters (dots, spaces, quotes, newlines, emoji, empty) beside the contract are read and ignored.', (t) => {
  const odd = ['a.b', 'with space', '"quoted"', 'line\nbreak', '🩺', '', 'patient_id ', 'PATIENT_ID'];
  const extra = Object.fromEntries(
    odd.map((name, i) => [
      name,
      vectorFromArray(
        Array.from({ length: PATIENT_ROWS }, () => `v${i}`),
        new Utf8(),
      ),
    ]),
  );
  const bytes = patientsFile({ ...patientColumns(), ...extra });
  const o = curated(t, curateFile(request(bytes)));
  t.deepEqual([o.rowsIn, o.accepted], [PATIENT_ROWS, PATIENT_ROWS]);
  const names = readFooter(bytes, bytes.length, 'odd').schema.map((n) => n.name);
  for (const name of odd) t.true(names.includes(name), JSON.stringify(name));
});

test('A file whose footer says it decodes past the cap is quarantined as FileTooLargeError without decoding.', (t) => {
  const before = parquetWasmStats();
  const bytes = patientsFile(patientColumns());
  const o = curateFile({ ...request(bytes), limits: { maxDecodedBytes: 100, maxStringBytes: 2 ** 16 } });
  t.is(o.kind, 'quarantine');
  if (o.kind !== 'quarantine') return;
  t.is(o.reasonType, 'FileTooLargeError');
  t.regex(o.reason, /decode to .* over ingest's decoded-size cap of 0\.0 MiB \(CAREPIPE_INGEST_MAX_DECODED_MB\); not decoded/);
  t.is(parquetWasmStats().generation, before.generation);
});

test('A file that traps parquet-wasm is quarantined and the next file reads on a fresh instance.', (t) => {
  const fixtures = join(REPO_ROOT, 'tests', 'fixtures', 'parquet');
  const before = parquetWasmStats().traps;
  // corrupt_trap.parquet has no contract column: refused from its footer's schema, the decoder never runs.
  const refused = curateFile(request(readFileSync(join(fixtures, 'corrupt_trap.parquet'))));
  t.is(refused.kind === 'quarantine' ? refused.reasonType : refused.kind, 'SchemaMismatchError');
  t.is(parquetWasmStats().traps, before);
  // patients_trap.parquet passes the schema check and traps the decoder.
  const trapped = curateFile(request(readFileSync(join(fixtures, 'patients_trap.parquet'))));
  t.is(trapped.kind === 'quarantine' ? trapped.reasonType : trapped.kind, 'CorruptFileError');
  if (trapped.kind === 'quarantine') t.regex(trapped.reason, /parquet-wasm trapped \(unreachable\) and was restarted/);
  t.is(parquetWasmStats().traps, before + 1, 'if this fails, the fixture no longer traps: regenerate it (make_fixtures.py)');
  t.is(curated(t, curateFile(request(patientsFile(patientColumns())))).accepted, PATIENT_ROWS);
});

test('parquet-wasm is recycled once its memory passes the threshold, and reads on after.', (t) => {
  const before = parquetWasmStats();
  // Below the instance's starting memory: the next call must recycle.
  setParquetWasmRecycleBytes(1);
  try {
    t.is(curated(t, curateFile(request(patientsFile(patientColumns())))).accepted, PATIENT_ROWS);
    t.true(parquetWasmStats().memoryRecycles > before.memoryRecycles);
  } finally {
    setParquetWasmRecycleBytes(512 * 2 ** 20);
  }
  t.is(curated(t, curateFile(request(patientsFile(patientColumns())))).accepted, PATIENT_ROWS);
});
