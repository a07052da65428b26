/**
 * Parquet <-> Arrow: golden fixtures written by pyarrow (tests/fixtures/parquet/make_fixtures.py)
 * read value by value, write -> read round trips, determinism, corrupt input, a WebAssembly trap,
 * and files we write read back by pyarrow.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import {
  type DataType,
  DateDay,
  DateMillisecond,
  DenseUnion,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  makeBuilder,
  makeData,
  makeVector,
  Null,
  RecordBatch,
  Schema,
  Table,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint64,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { CorruptFileError, InvalidInputError, SchemaMismatchError } from '../../core/errors.js';
import {
  intOrFloatToFloat64,
  readParquet,
  readParquetSchema,
  timestampColumnToMillis,
  writeParquet,
  type WriteParquetOptions,
} from '../../activities/io/parquet.js';
import { parquetWasmGeneration } from '../../activities/io/parquet-runtime.js';

const FIXTURES = fileURLToPath(new URL('../../../tests/fixtures/parquet/', import.meta.url));

interface ExpectedColumn {
  kind: 'utf8' | 'float' | 'int' | 'timestamp' | 'date';
  nullable: boolean;
  values: (string | number | null)[];
}
interface ExpectedFile {
  table: string;
  rows: number;
  row_groups: number;
  columns: Record<string, ExpectedColumn>;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { files: Record<string, ExpectedFile> };

/** The Arrow types readParquet returns, documented where the file's physical type varies. */
const EXPECTED_TYPES: Record<string, Record<string, string>> = {
  'lab_snappy.parquet': { observed_at: 'Timestamp<MILLISECOND, UTC>', value: 'Float64', lab_id: 'Utf8' },
  'lab_ts_ms.parquet': { observed_at: 'Timestamp<MILLISECOND, UTC>' },
  'lab_ts_us.parquet': { observed_at: 'Timestamp<MICROSECOND, UTC>' },
  'lab_ts_ns.parquet': { observed_at: 'Timestamp<NANOSECOND, UTC>' },
  'lab_ts_int96.parquet': { observed_at: 'Timestamp<NANOSECOND, UTC>' },
  'lab_ts_us_no_timezone.parquet': { observed_at: 'Timestamp<MICROSECOND>' },
  'lab_no_arrow_schema.parquet': { observed_at: 'Timestamp<MICROSECOND, UTC>', value: 'Float64' },
  'lab_value_int64.parquet': { value: 'Int64' },
  // INT96 takes the unit of the embedded Arrow schema (pyarrow records the table's unit)...
  'encounters_int96.parquet': { discharge_time: 'Timestamp<MILLISECOND, UTC>' },
  // ... and is nanoseconds without a timezone when there is none (Spark, Impala, Hive).
  'lab_ts_int96_no_arrow_schema.parquet': { observed_at: 'Timestamp<NANOSECOND>' },
  'patients_snappy.parquet': { birth_date: 'Date32<DAY>' },
  'patients_no_arrow_schema.parquet': { birth_date: 'Date32<DAY>' },
};

const fixture = (name: string): Uint8Array => readFileSync(join(FIXTURES, name));

/** Index of the first difference between two float arrays (NaN equals NaN), or -1. */
function firstDifference(actual: ArrayLike<number>, wanted: ArrayLike<number | null>): number {
  if (actual.length !== wanted.length) return Math.min(actual.length, wanted.length);
  for (let i = 0; i < actual.length; i++) {
    const w = wanted[i] ?? NaN;
    if (!Object.is(actual[i], w) && !(Number.isNaN(actual[i]) && Number.isNaN(w))) return i;
  }
  return -1;
}

function assertColumn(t: ExecutionContext, file: string, name: string, vector: Vector | null, want: ExpectedColumn): void {
  if (vector === null) return void t.fail(`${file}: column ${name} is missing`);
  if (want.kind === 'utf8') {
    t.deepEqual([...vector] as unknown[], want.values, `${file}: ${name}`);
    return;
  }
  const numbers = want.kind === 'timestamp' || want.kind === 'date' ? timestampColumnToMillis(vector, name) : intOrFloatToFloat64(vector, name);
  const at = firstDifference(numbers, want.values as (number | null)[]);
  t.is(at, -1, `${file}: ${name} differs at row ${at}: ${numbers[at]} != ${String(want.values[at])}`);
}

function assertMatchesExpected(t: ExecutionContext, file: string, table: Table, want: ExpectedFile): void {
  t.is(table.numRows, want.rows, `${file}: rows`);
  t.deepEqual(
    table.schema.fields.map((f) => f.name),
    Object.keys(want.columns),
    `${file}: column names`,
  );
  for (const [name, column] of Object.entries(want.columns)) {
    const field = table.schema.fields.find((f) => f.name === name);
    t.is(field?.nullable, column.nullable, `${file}: ${name} nullability`);
    assertColumn(t, file, name, table.getChild(name), column);
  }
}

for (const [file, want] of Object.entries(expected.files)) {
  test(`Reading the golden fixture ${file} gives every expected value, null and type.`, (t) => {
    const table = readParquet(fixture(file), { source: file });
    assertMatchesExpected(t, file, table, want);
    for (const [name, type] of Object.entries(EXPECTED_TYPES[file] ?? {})) {
      t.is(String(table.getChild(name)?.type), type, `${file}: ${name} type`);
    }
  });
}

test('Every golden fixture has its expected values beside it, and there are fixtures for every variant.', (t) => {
  t.is(Object.keys(expected.files).length, 25);
  t.is(expected.files['lab_row_groups_of_3.parquet']?.row_groups, 4);
});

test('A small batch size splits the table into chunks without changing any value.', (t) => {
  const file = 'lab_row_groups_of_3.parquet';
  const table = readParquet(fixture(file), { batchSize: 2, source: file });
  t.is(table.batches.length, 5);
  assertMatchesExpected(t, file, table, expected.files[file]!);
});

test('Selecting columns keeps the file order and leaves out names the file lacks.', (t) => {
  const table = readParquet(fixture('lab_extra_columns.parquet'), { columns: ['value', 'lab_id', 'abnormal_flag', 'no_such_column'] });
  t.deepEqual(
    table.schema.fields.map((f) => f.name),
    ['lab_id', 'value', 'abnormal_flag'],
  );
  t.deepEqual([...table.getChild('lab_id')!].slice(0, 2), ['L0000', 'L0001']);
  const missing = readParquet(fixture('lab_missing_abnormal_flag.parquet'), { columns: ['lab_id', 'abnormal_flag'] });
  t.deepEqual(
    missing.schema.fields.map((f) => f.name),
    ['lab_id'],
  );
  t.is(missing.numRows, 10);
});

test('Reading only the schema gives the same fields and types as reading the data.', (t) => {
  for (const file of ['lab_ts_int96.parquet', 'lab_no_arrow_schema.parquet', 'patients_snappy.parquet', 'lab_zero_rows.parquet']) {
    const schema = readParquetSchema(fixture(file), { source: file });
    const table = readParquet(fixture(file), { source: file });
    t.deepEqual(
      schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
      table.schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable}`),
      file,
    );
  }
});

// ---- Tables built here, for round trips -------------------------------------------------------

/** A deterministic pseudo-random sequence in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

function bitmap(valid: (i: number) => boolean, length: number): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  for (let i = 0; i < length; i++) {
    if (valid(i)) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return { nullBitmap, nullCount };
}

/** A lab_results-like table with a date column, nulls in every nullable column. */
function labTable(rows: number, metadata?: Map<string, string>): Table {
  const next = random(rows);
  const observed = new BigInt64Array(rows);
  const values = new Float64Array(rows);
  const ranks = new Int32Array(rows);
  const birth = new Int32Array(rows);
  const strings: (string | null)[] = [];
  for (let i = 0; i < rows; i++) {
    observed[i] = BigInt(1_500_000_000_000 + Math.floor(next() * 300_000_000_000));
    values[i] = Math.round(next() * 1e6) / 100 - 100;
    ranks[i] = 1 + Math.floor(next() * 20);
    birth[i] = -20_000 + Math.floor(next() * 40_000);
    strings.push(i % 11 === 3 ? null : `L${i.toString(36)}-${Math.floor(next() * 1000)}`);
  }
  const table = new Table({
    lab_id: vectorFromArray(strings, new Utf8()),
    value: makeVector(makeData({ type: new Float64(), length: rows, data: values, ...bitmap((i) => i % 7 !== 0, rows) })),
    observed_at: makeVector(makeData({ type: new Timestamp(TimeUnit.MILLISECOND, 'UTC'), length: rows, data: observed, ...bitmap((i) => i % 13 !== 5, rows) })),
    dx_rank: makeVector(makeData({ type: new Int32(), length: rows, data: ranks, ...bitmap((i) => i % 5 !== 1, rows) })),
    birth_date: makeVector(makeData({ type: new DateDay(), length: rows, data: birth })),
  });
  if (!metadata) return table;
  const schema = new Schema(table.schema.fields, metadata);
  return new Table(
    schema,
    table.batches.map((batch) => new RecordBatch(schema, batch.data)),
  );
}

/** The values of labTable's columns, as the round trip and pyarrow comparisons see them. */
function summary(table: Table) {
  const labIds = [...table.getChild('lab_id')!] as (string | null)[];
  const value = intOrFloatToFloat64(table.getChild('value')!);
  const observed = timestampColumnToMillis(table.getChild('observed_at')!);
  const ranks = intOrFloatToFloat64(table.getChild('dx_rank')!);
  const birth = timestampColumnToMillis(table.getChild('birth_date')!);
  let valueSum = 0;
  let observedSum = 0n;
  let rankSum = 0;
  let birthDays = 0;
  for (let i = 0; i < table.numRows; i++) {
    if (!Number.isNaN(value[i])) valueSum += value[i]!;
    if (!Number.isNaN(observed[i])) observedSum += BigInt(observed[i]!);
    if (!Number.isNaN(ranks[i])) rankSum += ranks[i]!;
    birthDays += birth[i]! / 86_400_000;
  }
  return {
    rows: table.numRows,
    lab_id_sha256: createHash('sha256')
      .update(labIds.map((v) => v ?? '\0').join('\n'))
      .digest('hex'),
    value_sum: valueSum,
    value_nulls: value.filter(Number.isNaN).length,
    observed_ms_sum: observedSum.toString(),
    observed_nulls: observed.filter(Number.isNaN).length,
    dx_rank_sum: rankSum,
    birth_days_sum: birthDays,
  };
}

function assertSameValues(t: ExecutionContext, actual: Table, wanted: Table, label: string): void {
  t.deepEqual(
    actual.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    wanted.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    label,
  );
  t.deepEqual([...actual.getChild('lab_id')!], [...wanted.getChild('lab_id')!], `${label}: lab_id`);
  for (const name of ['value', 'dx_rank']) {
    t.is(firstDifference(intOrFloatToFloat64(actual.getChild(name)!), intOrFloatToFloat64(wanted.getChild(name)!)), -1, `${label}: ${name}`);
  }
  for (const name of ['observed_at', 'birth_date']) {
    t.is(firstDifference(timestampColumnToMillis(actual.getChild(name)!), timestampColumnToMillis(wanted.getChild(name)!)), -1, `${label}: ${name}`);
  }
}

const VARIANTS: WriteParquetOptions[] = (['snappy', 'zstd', 'gzip', 'uncompressed'] as const).flatMap((compression) =>
  ([1, 2] as const).flatMap((dataPageVersion) => [true, false].map((dictionary) => ({ compression, dataPageVersion, dictionary }))),
);
const variantName = (o: WriteParquetOptions) => `${o.compression}-v${o.dataPageVersion}-${o.dictionary ? 'dict' : 'plain'}`;

test('Writing then reading gives back every value, for each compression, data page version and encoding.', (t) => {
  const table = labTable(3_000);
  for (const options of VARIANTS) {
    assertSameValues(t, readParquet(writeParquet(table, options)), table, variantName(options));
  }
  const grouped = writeParquet(table, { rowGroupSize: 1_000, statistics: false });
  assertSameValues(t, readParquet(grouped), table, 'row groups of 1000, no statistics');
});

test('A 200,000-row table survives the round trip with every value equal.', (t) => {
  const table = labTable(200_000);
  const bytes = writeParquet(table);
  const started = performance.now();
  const read = readParquet(bytes, { source: 'large.parquet' });
  t.log(`read ${read.numRows} rows (${bytes.byteLength} bytes) in ${(performance.now() - started).toFixed(0)} ms`);
  assertSameValues(t, read, table, 'large');
});

test('Writing is deterministic: the same table and options give identical bytes, also after a decoder restart.', (t) => {
  const table = labTable(
    5_000,
    new Map([
      ['carepipe.table', 'lab_results'],
      ['carepipe.schema', '1'],
    ]),
  );
  for (const options of [{}, { compression: 'zstd', dataPageVersion: 2 }] as WriteParquetOptions[]) {
    const first = writeParquet(table, options);
    t.deepEqual(writeParquet(table, options), first);
    t.deepEqual(writeParquet(readParquet(first), options), first, 'a table read back writes the same bytes');
  }
  const before = writeParquet(table);
  t.throws(() => readParquet(fixture('corrupt_trap.parquet')), { instanceOf: CorruptFileError });
  t.deepEqual(writeParquet(table), before);
});

test('The bytes written for a fixed table are the recorded ones, so content hashes hold across runs.', (t) => {
  // Changes only when parquet-wasm's encoder changes (its created_by string names its version):
  // then every content hash in the lake changes too, which an upgrade must plan for.
  const bytes = writeParquet(labTable(1_000, new Map([['carepipe.table', 'lab_results']])));
  t.is(createHash('sha256').update(bytes).digest('hex'), 'a0db8f9913dc64daadeca2114fa1b7247f31989b79c01f8cf068c9123e3a32e5');
});

test('Schema and field metadata survive the round trip and are visible from the schema alone.', (t) => {
  const metadata = new Map([
    ['carepipe.table', 'lab_results'],
    ['carepipe.schema', '3'],
    ['a.b', 'x=y'],
  ]);
  const base = labTable(10);
  const field = new Field('value', new Float64(), true, new Map([['unit', 'mg/dL']]));
  const schema = new Schema(
    base.schema.fields.map((f) => (f.name === 'value' ? field : f)),
    metadata,
  );
  const table = new Table(
    schema,
    base.batches.map((b) => new RecordBatch(schema, b.data)),
  );
  const bytes = writeParquet(table);
  const read = readParquet(bytes);
  t.deepEqual([...read.schema.metadata].sort(), [...metadata].sort());
  t.deepEqual([...read.schema.fields.find((f) => f.name === 'value')!.metadata], [['unit', 'mg/dL']]);
  t.deepEqual([...readParquetSchema(bytes).metadata].sort(), [...metadata].sort());
});

// ---- Corrupt input ------------------------------------------------------------------------------

function assertCorrupt(t: ExecutionContext, bytes: Uint8Array, source: string): CorruptFileError {
  const read = t.throws(() => readParquet(bytes, { source }), { instanceOf: CorruptFileError });
  t.true(read.message.startsWith(`parquet: cannot read ${source}: `), read.message);
  t.is(read.type, 'CorruptFileError');
  const schema = t.throws(() => readParquetSchema(bytes, { source }), { instanceOf: CorruptFileError });
  t.true(schema.message.startsWith(`parquet: cannot read ${source}: `), schema.message);
  return read;
}

test('An empty file is a CorruptFileError naming the file.', (t) => {
  const err = assertCorrupt(t, new Uint8Array(0), 'raw/lab_results/ingest_date=2024-01-01/empty.parquet');
  t.is(err.message, 'parquet: cannot read raw/lab_results/ingest_date=2024-01-01/empty.parquet: the file is empty (0 bytes)');
});

test('Truncated files are CorruptFileErrors naming the file and no data value.', (t) => {
  const bytes = fixture('lab_snappy.parquet');
  for (const length of [4, 100, bytes.length >> 1, bytes.length - 8, bytes.length - 1]) {
    const err = assertCorrupt(t, bytes.subarray(0, length), `truncated-${length}.parquet`);
    t.false(/L000\d|P00\d|mg\/dL/.test(err.message), err.message);
  }
});

test('Random bytes, with or without the Parquet magic, are CorruptFileErrors.', (t) => {
  const next = random(42);
  const noise = Uint8Array.from({ length: 4096 }, () => Math.floor(next() * 256));
  assertCorrupt(t, noise, 'noise.bin');
  const magic = new TextEncoder().encode('PAR1');
  noise.set(magic, 0);
  noise.set(magic, noise.length - 4);
  assertCorrupt(t, noise, 'noise-with-magic.parquet');
});

test('A file that makes parquet-wasm trap is a CorruptFileError, and the decoder works again afterwards.', (t) => {
  const bytes = fixture('corrupt_trap.parquet');
  // The footer is intact: the schema reads; decoding the data pages panics.
  t.deepEqual(
    readParquetSchema(bytes).fields.map((f) => f.name),
    ['a', 's', 'i'],
  );
  const generation = parquetWasmGeneration();
  for (let i = 1; i <= 3; i++) {
    const err = t.throws(() => readParquet(bytes, { source: 'corrupt_trap.parquet' }), { instanceOf: CorruptFileError });
    t.is(err.message, 'parquet: cannot read corrupt_trap.parquet: parquet-wasm trapped (unreachable) and was restarted');
    t.is((err.cause as Error).name, 'RuntimeError');
  }
  t.is(parquetWasmGeneration(), generation + 3, 'if this fails, the fixture no longer traps: regenerate it');
  const file = 'lab_snappy.parquet';
  assertMatchesExpected(t, file, readParquet(fixture(file)), expected.files[file]!);
});

test('A column the writer cannot encode is an InvalidInputError, and writing works again afterwards.', (t) => {
  // parquet-wasm panics on a union column: the trap surfaces as an error and the module is replaced.
  const type = new DenseUnion([0, 1], [new Field('n', new Float64()), new Field('s', new Utf8())]);
  const union = makeBuilder<DenseUnion>({ type });
  union.append(1.5, 0);
  union.append('text', 1);
  const generation = parquetWasmGeneration();
  const err = t.throws(() => writeParquet(new Table({ c: union.finish().toVector() })), { instanceOf: InvalidInputError });
  t.is(err.message, 'parquet: cannot write a table of 2 rows x 1 columns: parquet-wasm trapped (unreachable) and was restarted');
  t.is(parquetWasmGeneration(), generation + 1);
  const table = labTable(100);
  assertSameValues(t, readParquet(writeParquet(table)), table, 'after the trap');
});

test('Invalid write options are refused before anything is encoded.', (t) => {
  const table = labTable(3);
  t.throws(() => writeParquet(table, { rowGroupSize: 0 }), { message: 'parquet: rowGroupSize must be a positive integer, got 0' });
  t.throws(() => writeParquet(table, { compression: 'lz4' as 'zstd' }), { message: 'parquet: unsupported compression lz4' });
  t.throws(() => readParquet(fixture('lab_snappy.parquet'), { batchSize: 1.5 }), { message: 'parquet: batchSize must be a positive integer, got 1.5' });
});

// ---- Interoperability --------------------------------------------------------------------------

test('Files written here are read by pyarrow with the same rows, values, codec and page version.', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-parquet-'));
  try {
    const metadata = new Map([['carepipe.table', 'lab_results']]);
    const table = labTable(2_000, metadata);
    const paths = VARIANTS.map((options) => {
      const path = join(dir, `${variantName(options)}.parquet`);
      writeFileSync(path, writeParquet(table, { ...options, rowGroupSize: 700 }));
      return path;
    });
    const script = join(FIXTURES, 'pyarrow_summary.py');
    const output = execFileSync('python3', [script, ...paths], { encoding: 'utf8' });
    const summaries = JSON.parse(output) as Record<string, Record<string, unknown>>;
    const wanted = summary(table);
    VARIANTS.forEach((options, i) => {
      const got = summaries[paths[i]!]!;
      const label = variantName(options);
      t.like(got, wanted, label);
      t.is(got.row_groups, 3, label);
      t.deepEqual(got.types, ['string', 'double', 'timestamp[ms, tz=UTC]', 'int32', 'date32[day]'], label);
      t.deepEqual(got.metadata, { 'carepipe.table': 'lab_results' }, label);
      t.deepEqual(got.codecs, [options.compression === 'uncompressed' ? 'UNCOMPRESSED' : options.compression!.toUpperCase()], label);
      t.deepEqual(got.page_types, [`v${options.dataPageVersion}`], label);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- Column normalisers ------------------------------------------------------------------------

/** A vector over a typed array, bypassing makeData's per-type overloads. */
function vectorOf(type: DataType, data: ArrayLike<number> | BigInt64Array, valid: (i: number) => boolean): Vector {
  return makeVector(makeData({ type, length: data.length, data, ...bitmap(valid, data.length) } as never));
}

function int64Vector(type: DataType, values: (bigint | null)[]): Vector {
  return vectorOf(type, new BigInt64Array(values.map((v) => v ?? 0n)), (i) => values[i] !== null);
}

test('Timestamps of every unit become floored epoch milliseconds, with nulls as NaN.', (t) => {
  const cases: [TimeUnit, bigint[], number[]][] = [
    [TimeUnit.SECOND, [1_700_000_000n, -1n], [1_700_000_000_000, -1_000]],
    [TimeUnit.MILLISECOND, [1_700_000_000_123n, -1n], [1_700_000_000_123, -1]],
    [TimeUnit.MICROSECOND, [1_700_000_000_123_999n, -1n], [1_700_000_000_123, -1]],
    [TimeUnit.NANOSECOND, [1_700_000_000_000_000_000n, 1_699_999_999_999_999_999n], [1_700_000_000_000, 1_699_999_999_999]],
    [TimeUnit.NANOSECOND, [-1n, -1_000_000n, -1_000_001n, 9_223_372_036_854_775_807n], [-1, -1, -2, 9_223_372_036_854]],
  ];
  for (const [unit, values, millis] of cases) {
    const vector = int64Vector(new Timestamp(unit, 'UTC'), [...values, null]);
    t.is(firstDifference(timestampColumnToMillis(vector), [...millis, null]), -1, `unit ${unit}`);
  }
});

test('Nanosecond conversion is exact for values anywhere in the int64 range.', (t) => {
  const next = random(7);
  const values: bigint[] = [];
  for (let i = 0; i < 20_000; i++) {
    const v = (BigInt(Math.floor(next() * 2 ** 32)) << 31n) ^ BigInt(Math.floor(next() * 2 ** 32));
    values.push(i % 2 ? v : -v);
  }
  const floorDiv = (v: bigint, d: bigint) => (v % d < 0n ? v / d - 1n : v / d);
  for (const [unit, divisor] of [
    [TimeUnit.NANOSECOND, 1_000_000n],
    [TimeUnit.MICROSECOND, 1_000n],
  ] as const) {
    const got = timestampColumnToMillis(int64Vector(new Timestamp(unit), values));
    const wanted = values.map((v) => Number(floorDiv(v, divisor)));
    t.is(firstDifference(got, wanted), -1, `unit ${unit}`);
  }
});

test('Dates, sliced vectors and vectors of several chunks convert to the right milliseconds.', (t) => {
  const days = makeVector(makeData({ type: new DateDay(), length: 3, data: Int32Array.from([-1, 0, 19_723]), ...bitmap((i) => i !== 1, 3) }));
  t.is(firstDifference(timestampColumnToMillis(days), [-86_400_000, null, 1_704_067_200_000]), -1);
  const dateMillis = int64Vector(new DateMillisecond(), [86_400_000n, null]);
  t.is(firstDifference(timestampColumnToMillis(dateMillis), [86_400_000, null]), -1);
  const ms = int64Vector(new Timestamp(TimeUnit.MILLISECOND), [1n, null, 3n, 4n, null, 6n, 7n, 8n, 9n, null]);
  t.is(firstDifference(timestampColumnToMillis(ms.slice(3)), [4, null, 6, 7, 8, 9, null]), -1);
  t.is(firstDifference(timestampColumnToMillis(ms.slice(1, 3).concat(ms.slice(9))), [null, 3, null]), -1);
  const int64 = int64Vector(new Int64(), [1n, null, 3n, 4n, null, 6n]);
  t.is(firstDifference(intOrFloatToFloat64(int64.slice(1, 3).concat(int64.slice(4))), [null, 3, null, 6]), -1);
  const nulls = makeVector(makeData({ type: new Null(), length: 2 }));
  t.is(firstDifference(timestampColumnToMillis(nulls), [null, null]), -1);
  t.is(firstDifference(intOrFloatToFloat64(nulls), [null, null]), -1);
});

test('Integers of every width and floats widen to float64 with nulls as NaN.', (t) => {
  const vector = (type: DataType, data: ArrayLike<number>) => vectorOf(type, data, (i) => i !== 1);
  t.is(firstDifference(intOrFloatToFloat64(vector(new Int8(), Int8Array.from([-128, 0, 127]))), [-128, null, 127]), -1);
  t.is(firstDifference(intOrFloatToFloat64(vector(new Uint16(), Uint16Array.from([65_535, 0, 1]))), [65_535, null, 1]), -1);
  t.is(firstDifference(intOrFloatToFloat64(vector(new Int16(), Int16Array.from([-2, 0, 2]))), [-2, null, 2]), -1);
  t.is(firstDifference(intOrFloatToFloat64(vector(new Float32(), Float32Array.from([0.5, 0, -1.25]))), [0.5, null, -1.25]), -1);
  const int64 = int64Vector(new Int64(), [2n ** 53n - 1n, null, -(2n ** 53n) + 1n, -1n, 0n, 4_294_967_296n]);
  t.is(firstDifference(intOrFloatToFloat64(int64), [2 ** 53 - 1, null, -(2 ** 53) + 1, -1, 0, 4_294_967_296]), -1);
  const uint64 = int64Vector(new Uint64(), [2n ** 63n, null, 4_294_967_295n]);
  t.is(firstDifference(intOrFloatToFloat64(uint64), [2 ** 63, null, 4_294_967_295]), -1);
});

test('Normalising a column of the wrong type is a SchemaMismatchError naming the column.', (t) => {
  const strings = vectorFromArray(['1.5', null], new Utf8());
  t.throws(() => intOrFloatToFloat64(strings, 'value'), { instanceOf: SchemaMismatchError, message: 'arrow: column value is Utf8, not an integer or float' });
  t.throws(() => timestampColumnToMillis(strings, 'observed_at'), {
    instanceOf: SchemaMismatchError,
    message: 'arrow: column observed_at is Utf8, not a timestamp or date',
  });
});
