/**
 * The synthetic lake as a stream of files, without I/O. Patients are simulated a chunk at a
 * time; a chunk's rows become its own files (`part-c<chunk>-f<file>.parquet` under each table and
 * ingest date), then its ground-truth part, and then the chunk is dropped. Across chunks only
 * counters and the ground truth's histograms remain, so memory is bounded by the chunk size.
 * The generator's return value is the summary.
 */
import type { Table } from 'apache-arrow';
import type { WriteParquetOptions } from '../../activities/io/parquet.js';
import { RAW_TABLES, type RawTable, lake } from '../layout.js';
import { Calendar } from './calendar.js';
import { type MessinessCounts, RowEmitter, emptyCounts } from './emitter.js';
import { GroundTruth, groundTruthKey } from './ground-truth.js';
import { type GeneratorInput, type GeneratorOptions, resolveOptions } from './options.js';
import { Rng } from './prng.js';
import { ChunkRows, DiagnosisRows, EncounterRows, LabRows, PatientRows } from './raw-rows.js';
import { type CorruptionKind, PLAIN_FORMAT, drawFormat, withColumnAsText, withExtraColumn, withoutColumn } from './odd-files.js';
import { simulatePatient } from './timeline.js';
import { ProducerTiming } from './timing.js';

export interface RawFile {
  kind: 'raw';
  table: RawTable;
  ingestDate: string;
  fileName: string;
  /** `raw/<table>/ingest_date=<date>/<fileName>`, relative to the lake root. */
  key: string;
  data: Table;
  writeOptions: WriteParquetOptions;
  /** Set on the corrupt mode's odd files; a `truncated` file is cut in half after encoding. */
  corruption?: CorruptionKind;
}

export interface GroundTruthFile {
  kind: 'ground-truth';
  key: string;
  data: Table;
  writeOptions: WriteParquetOptions;
  /** Patients simulated so far, this chunk included (the part closes its chunk). */
  patientsDone: number;
  patients: number;
  chunks: number;
}

export type GeneratedFile = RawFile | GroundTruthFile;

export interface CorruptFile {
  key: string;
  table: RawTable;
  kind: CorruptionKind;
  rows: number;
  /** `quarantine`: unreadable or wrongly typed, its rows are copies of rows landed elsewhere. `accept`: real rows. */
  expected: 'quarantine' | 'accept';
}

export interface GenerationStats {
  options: GeneratorOptions;
  ingestDates: { first: string; last: string };
  /** Simulated time: [start, cutoff), ISO instants. */
  clinicalWindow: { start: string; cutoff: string };
  /** Rows in raw files, every file included (the corrupt copies too: see corruptFiles). */
  rows: Record<RawTable, number>;
  filesByTable: Record<RawTable, number>;
  groundTruthKeys: string[];
  indexStays: number;
  /** Index stays with label 1. */
  readmissions: number;
  readmissionRate: number;
  /** Index stays whose 30 days after discharge do not end before the cutoff. */
  censoredIndexStays: number;
  /** Mean of p (the risk function) over index stays. */
  meanRisk: number;
  /** AUC(p_observed, label) over every index stay: the best any model can do on these labels. NaN without both labels. */
  bayesAuc: number;
  /** The same over index stays followed for 30 days (where p_observed = p). */
  bayesAucComplete: number;
  messiness: MessinessCounts;
  /** Every raw file with no rows: the empty-file knob's, and the last ingest date's encounters file when nothing else landed there. */
  emptyFiles: string[];
  corruptFiles: CorruptFile[];
}

export const FILE_STREAM = 3;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const rawFileName = (chunk: number, file: number) => `part-c${pad(chunk, 5)}-f${pad(file, 2)}.parquet`;
const EMPTY_TABLES = { patients: PatientRows, encounters: EncounterRows, diagnoses: DiagnosisRows, lab_results: LabRows };

export async function* generateRawFiles(input: GeneratorInput = {}): AsyncGenerator<GeneratedFile, GenerationStats> {
  const options = resolveOptions(input);
  const calendar = new Calendar(options);
  const truth = new GroundTruth();
  const counts = emptyCounts();
  const perTable = () => ({ patients: 0, encounters: 0, diagnoses: 0, lab_results: 0 });
  const rowsByTable = perTable();
  const filesByTable = perTable();
  const emptyFiles: string[] = [];
  const corruptFiles: CorruptFile[] = [];
  const groundTruthKeys: string[] = [];
  const chunks = Math.ceil(options.patients / options.patientsPerChunk);
  const m = options.messiness;
  let encountersOnLastDay = false;

  const raw = (table: RawTable, day: number, fileName: string, data: Table, writeOptions: WriteParquetOptions, corruption?: CorruptionKind): RawFile => {
    const ingestDate = calendar.ingestDate(day);
    rowsByTable[table] += data.numRows;
    filesByTable[table] += 1;
    const file: RawFile = { kind: 'raw', table, ingestDate, fileName, key: `${lake.rawDatePrefix(table, ingestDate)}${fileName}`, data, writeOptions };
    if (corruption) {
      file.corruption = corruption;
      corruptFiles.push({
        key: file.key,
        table,
        kind: corruption,
        rows: data.numRows,
        expected: corruption === 'truncated' || corruption === 'wrong-type' ? 'quarantine' : 'accept',
      });
    }
    return file;
  };

  for (let chunk = 0; chunk < chunks; chunk++) {
    const rows = new ChunkRows(options.filesPerDay);
    const env = {
      seed: options.seed,
      calendar,
      truth,
      emitter: new RowEmitter(rows, m, calendar, options.seed, counts),
      timing: new ProducerTiming(calendar, options, options.seed),
    };
    const end = Math.min(options.patients, (chunk + 1) * options.patientsPerChunk);
    for (let index = chunk * options.patientsPerChunk; index < end; index++) simulatePatient(env, index);

    const fileRng = Rng.derive(options.seed, chunk, FILE_STREAM);
    const odd = m.corrupt && chunk === 0 ? oddFilePlan(rows, calendar.lastDay) : undefined;
    for (const table of RAW_TABLES) {
      for (let day = 0; day <= calendar.lastDay; day++) {
        for (let f = 0; f < options.filesPerDay; f++) {
          const format = drawFormat(fileRng, m.mixedFileFormats);
          const builder = rows.take(table, day, f);
          if (!builder) continue;
          if (table === 'encounters' && day === calendar.lastDay) encountersOnLastDay = true;
          const files = oddFiles(odd, table, day, f, rawFileName(chunk, f), builder.toTable());
          for (const [name, data, corruption] of files) yield raw(table, day, name, data, format, corruption);
        }
        if (fileRng.bernoulli(m.emptyFileRate)) {
          const file = raw(table, day, `part-c${pad(chunk, 5)}-empty.parquet`, new EMPTY_TABLES[table]().toTable(), drawFormat(fileRng, m.mixedFileFormats));
          emptyFiles.push(file.key);
          if (table === 'encounters' && day === calendar.lastDay) encountersOnLastDay = true;
          yield file;
        }
        if (table === 'encounters' && day === calendar.lastDay && chunk === chunks - 1 && !encountersOnLastDay) {
          // The lake's end is its latest ingest date of encounters, and the ground truth's `censored`
          // is measured to the cutoff: so that date holds a file even on the rare day nothing lands.
          const file = raw(table, day, `part-c${pad(chunk, 5)}-empty.parquet`, new EMPTY_TABLES[table]().toTable(), { ...PLAIN_FORMAT });
          emptyFiles.push(file.key);
          yield file;
        }
      }
    }
    const key = groundTruthKey(chunk);
    groundTruthKeys.push(key);
    yield { kind: 'ground-truth', key, data: truth.takePart(), writeOptions: { ...PLAIN_FORMAT }, patientsDone: end, patients: options.patients, chunks };
  }

  return {
    options,
    ingestDates: { first: calendar.ingestDate(0), last: calendar.ingestDate(calendar.lastDay) },
    clinicalWindow: { start: new Date(calendar.clinicalStartMs).toISOString(), cutoff: new Date(calendar.cutoffMs).toISOString() },
    rows: rowsByTable,
    filesByTable,
    groundTruthKeys,
    indexStays: truth.indexStays,
    readmissions: truth.readmissions,
    readmissionRate: truth.indexStays === 0 ? 0 : truth.readmissions / truth.indexStays,
    censoredIndexStays: truth.censored,
    meanRisk: truth.indexStays === 0 ? 0 : truth.riskSum / truth.indexStays,
    bayesAuc: truth.bayesAuc(),
    bayesAucComplete: truth.bayesAucComplete(),
    messiness: counts,
    emptyFiles,
    corruptFiles,
  };
}

interface OddFilePlan {
  /** Ingest-date indices of the lab files to copy truncated, to copy with text values, to strip of flags. */
  labDays: readonly [number, number, number];
  encounterDay: number;
}

/**
 * Where the corrupt mode's files go, among the first chunk's first files: copies of two lab
 * files (truncated; values as text), a third lab file without its flags, and the last
 * encounters file with an extra column. Fewer lab days than three means some share a day.
 */
function oddFilePlan(rows: ChunkRows, lastDay: number): OddFilePlan {
  const labDays: number[] = [];
  let encounterDay = -1;
  for (let day = 0; day <= lastDay; day++) {
    if (rows.peek('lab_results', day, 0)) labDays.push(day);
    if (rows.peek('encounters', day, 0)) encounterDay = day;
  }
  const n = labDays.length;
  const pickDay = (fraction: number) => (n === 0 ? -1 : labDays[Math.min(n - 1, Math.floor(fraction * n))]!);
  return { labDays: [pickDay(0.5), pickDay(0.75), pickDay(0.99)], encounterDay };
}

type FileSpec = [fileName: string, data: Table, corruption: CorruptionKind | undefined];

/** The files one builder becomes: itself, altered or not, and the copies the plan puts beside it. */
function oddFiles(plan: OddFilePlan | undefined, table: RawTable, day: number, file: number, name: string, data: Table): FileSpec[] {
  if (!plan || file !== 0) return [[name, data, undefined]];
  const out: FileSpec[] = [];
  if (table === 'lab_results' && day === plan.labDays[0]) out.push(['part-c00000-resend-truncated.parquet', data, 'truncated']);
  if (table === 'lab_results' && day === plan.labDays[1]) out.push(['part-c00000-resend-text-values.parquet', withColumnAsText(data, 'value'), 'wrong-type']);
  if (table === 'lab_results' && day === plan.labDays[2]) out.push([name, withoutColumn(data, 'abnormal_flag'), 'missing-column']);
  else if (table === 'encounters' && day === plan.encounterDay) out.push([name, withExtraColumn(data, 'source_system', 'EHR-A'), 'extra-column']);
  else out.push([name, data, undefined]);
  return out;
}
