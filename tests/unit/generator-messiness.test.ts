import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { CorruptFileError } from '../../core/errors.js';
import { FileStore } from '../../activities/io/file-store.js';
import { readParquet } from '../../activities/io/parquet.js';
import {
  type GeneratedFile,
  type GeneratorInput,
  type MessinessOptions,
  type RawFile,
  LABS,
  NO_MESSINESS,
  writeRawLake,
} from '../../data-lake/generator/index.js';
import { MALFORMED_ICD10_CODES, UNKNOWN_LOINC_CODES } from '../../data-lake/generator/emitter.js';
import { RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { RAW_PRIMARY_KEYS, contractSchemas } from '../../schemas/raw.js';
import { generate } from '../helpers/generated.js';

type Row = Record<string, unknown>;

const BASE: GeneratorInput = { patients: 800, days: 30, seed: 21 };
const only = (knobs: Partial<MessinessOptions>): GeneratorInput => ({ ...BASE, messiness: { ...NO_MESSINESS, ...knobs } });
const cleanPromise = generate({ ...BASE, messiness: 'none' });

const rawFiles = (files: GeneratedFile[], table: RawTable) =>
  files
    .filter((f): f is RawFile => f.kind === 'raw' && f.table === table)
    .sort((a, b) => (a.ingestDate === b.ingestDate ? (a.fileName < b.fileName ? -1 : 1) : a.ingestDate < b.ingestDate ? -1 : 1));
const rowsOf = (table: Table): Row[] => table.toArray().map((r) => (r as { toJSON(): Row }).toJSON());
const keyOf = (table: RawTable, row: Row) => RAW_PRIMARY_KEYS[table].map((k) => String(row[k])).join('|');

/** Every row with the ingest date it landed on, in landing order. */
const landed = (files: GeneratedFile[], table: RawTable) => rawFiles(files, table).flatMap((f) => rowsOf(f.data).map((row) => ({ date: f.ingestDate, row })));

/** Last write wins by ingest date, then file name; sorted by key. */
function latest(files: GeneratedFile[], table: RawTable): [string, Row][] {
  const out = new Map<string, Row>();
  for (const { row } of landed(files, table)) out.set(keyOf(table, row), row);
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

test('alternate-unit lab rows convert back to the values the clean lake has', async (t) => {
  const [clean, messy] = await Promise.all([cleanPromise, generate(only({ alternateUnitRate: 0.3 }))]);
  const canonical = new Map(latest(clean.files, 'lab_results'));
  const factors = new Map(
    Object.values(LABS)
      .filter((s) => s.alternate)
      .map((s) => [`${s.loinc} ${s.alternate!.unit}`, s.alternate!.factor]),
  );
  t.deepEqual([...factors.keys()].sort(), ['2160-0 umol/L', '2345-7 mmol/L', '718-7 g/L']);
  let converted = 0;
  for (const { row } of landed(messy.files, 'lab_results')) {
    const original = canonical.get(row.lab_id as string)!;
    const factor = factors.get(`${row.loinc as string} ${row.unit as string}`);
    if (factor === undefined) {
      t.deepEqual(row, original);
      continue;
    }
    converted++;
    const back = (row.value as number) / factor;
    t.true(Math.abs(back - (original.value as number)) <= 1e-9 * Math.max(1, Math.abs(original.value as number)), row.lab_id as string);
    t.is(row.abnormal_flag, original.abnormal_flag);
  }
  t.true(converted > 1000);
  t.is(converted, messy.stats.messiness.alternateUnits);
  // The conversions themselves, for one of each: glucose 90 mg/dL = 4.9956 mmol/L, creatinine 1 mg/dL = 88.42 umol/L.
  t.true(Math.abs(90 * LABS.glucose.alternate!.factor - 4.99556) < 1e-5);
  t.is(LABS.creatinine.alternate!.factor, 88.42);
  t.is(LABS.hemoglobin.alternate!.factor, 10);
});

test('corrections land on a later ingest date with the same key, and the last write is the clean row', async (t) => {
  const [clean, messy] = await Promise.all([cleanPromise, generate(only({ correctionRate: 0.2 }))]);
  for (const table of RAW_TABLES) {
    const byKey = new Map<string, { date: string; row: Row }[]>();
    for (const item of landed(messy.files, table)) byKey.set(keyOf(table, item.row), [...(byKey.get(keyOf(table, item.row)) ?? []), item]);
    const resent = [...byKey.values()].filter((items) => items.length > 1);
    t.is(resent.length, messy.stats.messiness.corrections[table], table);
    for (const [first, second] of resent.map((items) => [items[0]!, items[1]!] as const)) {
      t.true(first.date < second.date);
      t.notDeepEqual(first.row, second.row);
    }
    t.deepEqual(latest(messy.files, table), latest(clean.files, table), table);
  }
  const corrections = messy.stats.messiness.corrections;
  t.true(corrections.lab_results > 1000 && corrections.patients > 20 && corrections.encounters > 0, JSON.stringify(corrections));
});

test('duplicates are exact copies of the row before them and the rest is the clean lake', async (t) => {
  const [clean, messy] = await Promise.all([cleanPromise, generate(only({ duplicateRate: 0.02 }))]);
  for (const table of RAW_TABLES) {
    let copies = 0;
    for (const f of rawFiles(messy.files, table)) {
      const rows = rowsOf(f.data).map((r) => JSON.stringify(r));
      rows.forEach((r, i) => {
        if (i > 0 && r === rows[i - 1]) copies++;
      });
    }
    t.is(copies, messy.stats.messiness.duplicates[table], table);
    t.true(copies > 0, table);
    t.deepEqual(latest(messy.files, table), latest(clean.files, table), table);
  }
});

test('impossible rows have keys of their own and cannot be true', async (t) => {
  const [clean, messy] = await Promise.all([cleanPromise, generate(only({ impossibleRate: 0.01 }))]);
  const injected = (table: RawTable, key: string) =>
    latest(messy.files, table)
      .map(([, row]) => row)
      .filter((r) => (r[key] as string).endsWith('X'));
  const firstIngest = Date.parse(`${messy.stats.ingestDates.first}T00:00:00Z`);
  const old = injected('patients', 'patient_id');
  t.is(old.length, messy.stats.messiness.impossible.patients);
  t.true(old.length > 5);
  t.true(old.every((p) => (firstIngest - (p.birth_date as number)) / (365.25 * 86_400_000) >= 139.5));
  const backwards = injected('encounters', 'encounter_id');
  t.is(backwards.length, messy.stats.messiness.impossible.encounters);
  t.true(backwards.every((e) => (e.discharge_time as number) < (e.admit_time as number) && e.encounter_class !== 'inpatient'));
  const negative = injected('lab_results', 'lab_id');
  t.is(negative.length, messy.stats.messiness.impossible.lab_results);
  t.true(negative.every((l) => l.loinc === '2345-7' && (l.value as number) < 0));
  for (const table of RAW_TABLES) {
    const kept = latest(messy.files, table).filter(([key]) => !key.split('|')[0]!.endsWith('X'));
    t.deepEqual(kept, latest(clean.files, table), table);
  }
});

/** LOINC's mod-10 check digit of the part before the dash. */
function loincCheckDigit(body: string): number {
  const digits = [...body].reverse();
  const doubled = digits
    .filter((_, i) => i % 2 === 0)
    .reverse()
    .join('');
  const rest = digits
    .filter((_, i) => i % 2 === 1)
    .reverse()
    .join('');
  const sum = [...`${rest}${String(Number(doubled) * 2)}`].reduce((n, d) => n + Number(d), 0);
  return (10 - (sum % 10)) % 10;
}

test('unknown-code rows carry codes no vocabulary has, have keys of their own, and leave the other knobs unchanged', async (t) => {
  const others = { impossibleRate: 0.01, duplicateRate: 0.01, alternateUnitRate: 0.1 };
  const [clean, without, messy] = await Promise.all([cleanPromise, generate(only(others)), generate(only({ ...others, unknownCodeRate: 0.01 }))]);
  const m = messy.stats.messiness;
  t.deepEqual(without.stats.messiness.unknownCodes, { diagnoses: 0, lab_results: 0 });
  t.true(m.unknownCodes.lab_results > 100 && m.unknownCodes.diagnoses > 5, JSON.stringify(m.unknownCodes));

  const known = new Set(Object.values(LABS).map((s) => s.loinc));
  const labs = landed(messy.files, 'lab_results')
    .map(({ row }) => row)
    .filter((r) => (r.lab_id as string).endsWith('UX'));
  t.is(labs.length, m.unknownCodes.lab_results);
  t.true(labs.every((r) => !known.has(r.loinc as string) && UNKNOWN_LOINC_CODES.includes(r.loinc as never)));
  t.deepEqual([...new Set(labs.map((r) => r.loinc as string))].sort(), [...UNKNOWN_LOINC_CODES].sort());
  // The codes cannot exist: their check digit is wrong, where every real code's is right (12345-5 is LOINC's own example).
  t.is(loincCheckDigit('12345'), 5);
  for (const code of known) t.is(loincCheckDigit(code.split('-')[0]!), Number(code.split('-')[1]), code);
  for (const code of UNKNOWN_LOINC_CODES) t.not(loincCheckDigit(code.split('-')[0]!), Number(code.split('-')[1]), code);

  const dx = landed(messy.files, 'diagnoses')
    .map(({ row }) => row)
    .filter((r) => (r.encounter_id as string).endsWith('UX'));
  t.is(dx.length, m.unknownCodes.diagnoses);
  t.true(dx.every((r) => MALFORMED_ICD10_CODES.includes(r.icd10 as never) && r.dx_rank === 1));
  const cleanCodes = new Set(landed(clean.files, 'diagnoses').map(({ row }) => row.icd10));
  t.true(MALFORMED_ICD10_CODES.every((code) => !cleanCodes.has(code)));

  // Pure additions: without the UX rows the files are row for row those of the same knobs without unknown codes.
  t.deepEqual({ ...m, unknownCodes: without.stats.messiness.unknownCodes }, without.stats.messiness);
  for (const table of RAW_TABLES) {
    const rows = (files: GeneratedFile[]) => landed(files, table).filter(({ row }) => !String(row[RAW_PRIMARY_KEYS[table][0]!]).endsWith('UX'));
    t.deepEqual(rows(messy.files), rows(without.files), table);
  }
});

test('empty files have zero rows and the contract schema, and the summary lists each', async (t) => {
  const { files, stats } = await generate(only({ emptyFileRate: 0.2 }));
  const empty = files.filter((f): f is RawFile => f.kind === 'raw' && f.data.numRows === 0);
  t.deepEqual(empty.map((f) => f.key).sort(), [...stats.emptyFiles].sort());
  t.true(empty.length > 10);
  for (const f of empty) t.deepEqual(f.data.schema.names, contractSchemas[f.table].names);
});

test('the corrupt mode writes the four odd files it reports and pyarrow reads every other file', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'carepipe-gen-'));
  try {
    const store = new FileStore({ root });
    const summary = await writeRawLake(store, { patients: 400, days: 10, seed: 4, messiness: { corrupt: true } });
    t.deepEqual(summary.corruptFiles.map((f) => [f.kind, f.table, f.expected]).sort(), [
      ['extra-column', 'encounters', 'accept'],
      ['missing-column', 'lab_results', 'accept'],
      ['truncated', 'lab_results', 'quarantine'],
      ['wrong-type', 'lab_results', 'quarantine'],
    ]);
    const byKind = new Map(summary.corruptFiles.map((f) => [f.kind, f]));
    const bytes = async (kind: string) => store.get(byKind.get(kind as never)!.key);
    t.throws(() => readParquet(Buffer.from('x')), { instanceOf: CorruptFileError });
    const truncatedBytes = await bytes('truncated');
    t.throws(() => readParquet(truncatedBytes), { instanceOf: CorruptFileError });
    t.is(String(readParquet(await bytes('wrong-type')).schema.fields.find((f) => f.name === 'value')!.type), 'Utf8');
    const extra = readParquet(await bytes('extra-column'));
    t.deepEqual(extra.schema.names, [...contractSchemas.encounters.names, 'source_system']);
    t.is(extra.numRows, byKind.get('extra-column')!.rows);
    t.deepEqual(
      readParquet(await bytes('missing-column')).schema.names,
      contractSchemas.lab_results.names.filter((n) => n !== 'abnormal_flag'),
    );

    // An outside reader: pyarrow takes every file but the two meant for quarantine, with the contract's types.
    const unreadable = new Set(summary.corruptFiles.filter((f) => f.expected === 'quarantine').map((f) => f.key));
    const readable: string[] = [];
    for await (const info of store.list('raw/')) if (!unreadable.has(info.key)) readable.push(info.key);
    const script = `
import json, sys, pyarrow.parquet as pq
root = sys.argv[1]; out = {"types": {}, "codecs": set(), "versions": set(), "rows": 0}
for key in json.loads(sys.stdin.read()):
    f = pq.ParquetFile(root + "/" + key); table = f.read()
    out["rows"] += table.num_rows
    for field in table.schema: out["types"].setdefault(key.split("/")[1] + "." + field.name, set()).add(str(field.type))
    for rg in range(f.metadata.num_row_groups): out["codecs"].add(f.metadata.row_group(rg).column(0).compression)
    out["versions"].add(f.metadata.format_version)
out["types"] = {k: sorted(v) for k, v in out["types"].items()}
print(json.dumps({k: sorted(v) if isinstance(v, set) else v for k, v in out.items()}))
`;
    const report = JSON.parse(execFileSync('python3', ['-c', script, root], { input: JSON.stringify(readable), encoding: 'utf8' })) as {
      types: Record<string, string[]>;
      codecs: string[];
      versions: string[];
      rows: number;
    };
    t.deepEqual(report.types['encounters.admit_time'], ['timestamp[ms, tz=UTC]']);
    t.deepEqual(report.types['patients.birth_date'], ['date32[day]']);
    t.deepEqual(report.types['lab_results.value'], ['double']);
    t.deepEqual(report.types['diagnoses.dx_rank'], ['int32']);
    t.deepEqual(report.codecs, ['GZIP', 'SNAPPY', 'UNCOMPRESSED', 'ZSTD']);
    t.true(report.versions.length === 2, report.versions.join(', '));
    const quarantinedRows = summary.corruptFiles.filter((f) => f.expected === 'quarantine').reduce((n, f) => n + f.rows, 0);
    t.is(report.rows, Object.values(summary.rows).reduce((a, b) => a + b, 0) - quarantinedRows);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with every knob on, the summary accounts for every row beyond the clean lake', async (t) => {
  const knobs = {
    alternateUnitRate: 0.1,
    impossibleRate: 0.01,
    unknownCodeRate: 0.01,
    duplicateRate: 0.01,
    correctionRate: 0.05,
    emptyFileRate: 0.1,
    mixedFileFormats: true,
    corrupt: true,
  };
  const [clean, messy] = await Promise.all([cleanPromise, generate(only(knobs))]);
  const m = messy.stats.messiness;
  for (const table of RAW_TABLES) {
    const impossible = table === 'diagnoses' ? 0 : m.impossible[table];
    const unknown = table === 'diagnoses' || table === 'lab_results' ? m.unknownCodes[table] : 0;
    const copies = messy.stats.corruptFiles.filter((f) => f.table === table && f.expected === 'quarantine').reduce((n, f) => n + f.rows, 0);
    const extra = m.duplicates[table] + m.corrections[table] + impossible + unknown + copies;
    t.is(messy.stats.rows[table] - extra, clean.stats.rows[table], table);
    t.true(extra > 0, table);
  }
  t.is(messy.stats.indexStays, clean.stats.indexStays);
  t.is(messy.stats.bayesAuc, clean.stats.bayesAuc);
});
