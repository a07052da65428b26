/**
 * The generator's options: what callers may pass (`GeneratorInput`, all optional), the defaults,
 * and `resolveOptions()`, which rejects impossible values with a sentence naming the option.
 */
import { InvalidInputError } from '../../core/errors.js';
import { isIngestDate } from '../layout.js';

/** Row- and file-level faults real extracts contain. Rates are probabilities per row or file. */
export interface MessinessOptions {
  /** Share of glucose, creatinine and hemoglobin results sent in their alternate unit. */
  alternateUnitRate: number;
  /**
   * Extra impossible rows, per clean row of the table: patients aged 140, emergency or outpatient
   * encounters discharged before admission, negative glucose. Each has a key of its own.
   */
  impossibleRate: number;
  /**
   * Extra rows with codes no vocabulary has: a lab result under a LOINC code that does not exist
   * (per clean lab result), a diagnosis with a malformed ICD-10 code (per closed stay's diagnoses).
   * Each has a key of its own.
   */
  unknownCodeRate: number;
  /** Share of rows sent twice, identically, in the same file. */
  duplicateRate: number;
  /**
   * Share of rows first sent wrong and re-sent right on a later ingest date with the same key:
   * a lab value, an inpatient stay first sent open (no discharge yet), a patient's phone number.
   */
  correctionRate: number;
  /** Chance, per table and ingest date, of one more file with zero rows. */
  emptyFileRate: number;
  /** Vary compression (Snappy, ZSTD, GZIP, none), data page version, dictionary and row-group size per file. */
  mixedFileFormats: boolean;
  /**
   * Also write four odd files on the first chunk: a truncated file and one with a utf8 `value`
   * (both copies of real rows, to be quarantined), a real file with an extra column and a real
   * lab file without `abnormal_flag` (both to be accepted).
   */
  corrupt: boolean;
}

export interface GeneratorOptions {
  patients: number;
  /** Ingest dates: `startDate` and the days after it. */
  days: number;
  /** First ingest date, YYYY-MM-DD. */
  startDate: string;
  seed: number;
  /** Files per table, ingest date and chunk; patients are spread over them by index. */
  filesPerDay: number;
  /**
   * Days of clinical history before the first ingest date, delivered in one initial load on it.
   * Without it, every stay of a short lake would be discharged too late for 30 days of follow-up.
   */
  historyDays: number;
  /** Patients simulated (and held in memory) at a time; each chunk writes its own files. */
  patientsPerChunk: number;
  /**
   * Share of closed encounters sent whole (the encounter, its diagnoses and labs) in the file of
   * the admission's local date, discharge already filled in: so with times later than the file's
   * ingest date, as the contract allows. 0 keeps every row landing the day after it happened.
   */
  sentAtAdmissionRate: number;
  /**
   * Share of admissions (inpatient and emergency, readmissions excepted), inpatient discharges and
   * daily lab draws placed late in the producer's local evening (UTC-5: 00:30 to 04:30 UTC the
   * next day); such a row lands in the file of its local date, the day before its UTC date.
   * 0 keeps daytime discharges and morning draws.
   */
  eveningRate: number;
  messiness: MessinessOptions;
}

export type GeneratorInput = Partial<Omit<GeneratorOptions, 'messiness'>> & {
  /** `'none'` for a clean lake; a partial object overrides the mild defaults. */
  messiness?: Partial<MessinessOptions> | 'none';
};

export const MILD_MESSINESS: Readonly<MessinessOptions> = {
  alternateUnitRate: 0.05,
  impossibleRate: 0.001,
  unknownCodeRate: 0.001,
  duplicateRate: 0.002,
  correctionRate: 0.005,
  emptyFileRate: 0.02,
  mixedFileFormats: true,
  corrupt: false,
};

export const NO_MESSINESS: Readonly<MessinessOptions> = {
  alternateUnitRate: 0,
  impossibleRate: 0,
  unknownCodeRate: 0,
  duplicateRate: 0,
  correctionRate: 0,
  emptyFileRate: 0,
  mixedFileFormats: false,
  corrupt: false,
};

export const DEFAULT_OPTIONS: Readonly<Omit<GeneratorOptions, 'messiness'>> = {
  patients: 2000,
  days: 30,
  startDate: '2025-01-01',
  seed: 1,
  filesPerDay: 1,
  historyDays: 365,
  patientsPerChunk: 5000,
  sentAtAdmissionRate: 0,
  eveningRate: 0,
};

/**
 * A year of daily files as another producer writes them: a quarter of the stays sent on their
 * admission day with their discharge, a quarter of the events late in the local evening, after an
 * initial load of 90 days (so most of the simulated time is the year). For the tests and benches
 * that must not share the default's assumptions (rows landing the day after, daytime discharges).
 */
export const YEAR_OF_DAILY_FILES: Readonly<GeneratorInput> = { days: 365, historyDays: 90, sentAtAdmissionRate: 0.25, eveningRate: 0.25 };

/** Applies defaults and validates. Throws InvalidInputError naming the offending option. */
export function resolveOptions(input: GeneratorInput = {}): GeneratorOptions {
  const { messiness: messInput, ...rest } = input;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  const options: GeneratorOptions = {
    ...DEFAULT_OPTIONS,
    ...defined,
    messiness: messInput === 'none' ? { ...NO_MESSINESS } : { ...MILD_MESSINESS, ...definedOnly(messInput ?? {}) },
  };
  integer('patients', options.patients, 1);
  // Medical record numbers have 8 digits (people.ts).
  if (options.patients > 100_000_000) throw new InvalidInputError('generator: patients must be at most 100000000');
  integer('days', options.days, 1);
  integer('filesPerDay', options.filesPerDay, 1);
  integer('historyDays', options.historyDays, 0);
  integer('patientsPerChunk', options.patientsPerChunk, 1);
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
    throw new InvalidInputError('generator: seed must be an integer from 0 to 4294967295');
  }
  if (!isIngestDate(options.startDate)) {
    throw new InvalidInputError('generator: startDate must be a calendar date written YYYY-MM-DD');
  }
  for (const name of ['sentAtAdmissionRate', 'eveningRate'] as const) rate(name, options[name]);
  const m = options.messiness;
  for (const name of ['alternateUnitRate', 'impossibleRate', 'unknownCodeRate', 'duplicateRate', 'correctionRate', 'emptyFileRate'] as const) {
    rate(`messiness.${name}`, m[name]);
  }
  return options;
}

function rate(name: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new InvalidInputError(`generator: ${name} must be a number from 0 to 1`);
}

function integer(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidInputError(`generator: ${name} must be an integer of at least ${min}`);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
