/**
 * A feature dataset version loaded for training: feature columns, labels, and the patient
 * pseudonyms that decide the train/test split (patients, not stays, are split, so no patient is
 * on both sides). Stays whose 30 days of follow-up the lake does not show yet (`censored`, see
 * activities/features/readmission.ts) have no final label: they are left out.
 */
import { DataType, type Table } from 'apache-arrow';
import { InvalidInputError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { readJson } from '../context.js';
import { stringValues } from '../io/arrow-columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../io/parquet.js';
import type { FeatureManifest } from '../features/manifest-format.js';
import type { FeatureValues } from '../features/pipeline.js';
import { CENSORED_COLUMN, LABEL_COLUMN, NON_FEATURE_COLUMNS } from '../features/schema.js';

export { NON_FEATURE_COLUMNS };

export interface ShardRows {
  rows: number;
  columns: Map<string, FeatureValues>;
  labels: Uint8Array;
  patientKeys: (string | null)[];
  /** The stays' (pseudonymous) encounter ids, for stored predictions and evaluation joins. */
  encounterIds: (string | null)[];
}

export interface FeatureSet extends ShardRows {
  manifest: FeatureManifest;
  /** Positives among `rows`. */
  positives: number;
  /** Stays left out for want of follow-up. */
  censoredRows: number;
}

/** The feature columns (model inputs) of the given rows of a feature table: numbers as Float64Array, categories as strings. */
export function featureColumnsOf(table: Table, keep: readonly number[]): Map<string, FeatureValues> {
  const take = (values: Float64Array) => Float64Array.from(keep, (i) => values[i]!);
  const takeStrings = (values: (string | null)[]) => keep.map((i) => values[i] ?? null);
  const columns = new Map<string, FeatureValues>();
  for (const field of table.schema.fields) {
    if (NON_FEATURE_COLUMNS.has(field.name)) continue;
    const vector = table.getChild(field.name)!;
    columns.set(
      field.name,
      DataType.isFloat(field.type) || DataType.isInt(field.type)
        ? take(intOrFloatToFloat64(vector, field.name))
        : takeStrings(stringValues(vector, table.numRows)),
    );
  }
  return columns;
}

/** The labelled (not censored) rows of a feature table, as model inputs, labels and pseudonyms. */
export function labelledRows(table: Table): ShardRows & { censoredRows: number } {
  const censoredVector = table.getChild(CENSORED_COLUMN);
  const censored = censoredVector ? intOrFloatToFloat64(censoredVector, CENSORED_COLUMN) : new Float64Array(table.numRows);
  const keep: number[] = [];
  for (let i = 0; i < table.numRows; i++) if (censored[i] !== 1) keep.push(i);
  const rows = keep.length;
  const takeStrings = (values: (string | null)[]) => keep.map((i) => values[i] ?? null);
  const columns = featureColumnsOf(table, keep);
  const labelVector = table.getChild(LABEL_COLUMN);
  if (!labelVector) throw new InvalidInputError('features: a feature table has no label column');
  const labelValues = intOrFloatToFloat64(labelVector, LABEL_COLUMN);
  const labels = Uint8Array.from(keep, (i) => (labelValues[i] === 1 ? 1 : 0));
  return {
    rows,
    columns,
    labels,
    censoredRows: table.numRows - rows,
    patientKeys: takeStrings(stringValues(table.getChild('patient_key'), table.numRows)),
    encounterIds: takeStrings(stringValues(table.getChild('encounter_id'), table.numRows)),
  };
}

export async function loadFeatureSet(store: ObjectStore, dataset: string, version: string): Promise<FeatureSet> {
  const manifestKey = lake.featureManifest(dataset, version);
  const manifest = await readJson<FeatureManifest>(store, manifestKey);
  if (!manifest) throw new InvalidInputError(`features: no manifest at ${manifestKey}; build the features first`);
  const tables: Table[] = [];
  for (const shard of manifest.shards) if (shard.rows > 0) tables.push(readParquet(await store.get(shard.key), { source: shard.key }));
  if (tables.length === 0) throw new InvalidInputError(`features: dataset ${dataset}@${version} has no rows`);
  const table = tables.slice(1).reduce((acc, t) => acc.concat(t), tables[0]!);
  const set = labelledRows(table);
  if (set.rows === 0) throw new InvalidInputError(`features: dataset ${dataset}@${version} has no stay with 30 days of follow-up yet`);
  let positives = 0;
  for (const y of set.labels) positives += y;
  return { ...set, manifest, positives };
}

/** FNV-1a over the seed and the pseudonym: a stable, seeded coin per patient. */
function patientUnit(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 2 ** 32;
}

/** Whether a patient is held out for testing: a function of the pseudonym alone, so every shard agrees. */
export function isTestPatient(key: string | null, testFraction: number, seed: number): boolean {
  return patientUnit(seed, key ?? '') < testFraction;
}

export function splitByPatient(patientKeys: (string | null)[], testFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const train: number[] = [];
  const test: number[] = [];
  patientKeys.forEach((key, row) => (isTestPatient(key, testFraction, seed) ? test : train).push(row));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}
