/**
 * A feature dataset version loaded for training: feature columns, labels, and the patient
 * pseudonyms that decide the train/test split (patients, not stays, are split, so no patient is
 * on both sides).
 */
import { DataType, type Table } from 'apache-arrow';
import { InvalidInputError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { readJson } from '../context.js';
import { stringValues } from '../io/arrow-columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../io/parquet.js';
import type { FeatureManifest } from '../features/manifest.js';
import type { FeatureValues } from '../features/pipeline.js';

/** Columns of a feature shard that are identifiers or the label, not model inputs. */
export const NON_FEATURE_COLUMNS = new Set(['encounter_id', 'patient_key', 'discharge_time', 'label']);

export interface FeatureSet {
  manifest: FeatureManifest;
  rows: number;
  columns: Map<string, FeatureValues>;
  labels: Uint8Array;
  patientKeys: (string | null)[];
}

export async function loadFeatureSet(store: ObjectStore, dataset: string, version: string): Promise<FeatureSet> {
  const manifestKey = lake.featureManifest(dataset, version);
  const manifest = await readJson<FeatureManifest>(store, manifestKey);
  if (!manifest) throw new InvalidInputError(`features: no manifest at ${manifestKey}; build the features first`);
  const tables: Table[] = [];
  for (const shard of manifest.shards) if (shard.rows > 0) tables.push(readParquet(await store.get(shard.key), { source: shard.key }));
  if (tables.length === 0) throw new InvalidInputError(`features: dataset ${dataset}@${version} has no rows`);
  const table = tables.slice(1).reduce((acc, t) => acc.concat(t), tables[0]!);
  const n = table.numRows;
  const columns = new Map<string, FeatureValues>();
  for (const field of table.schema.fields) {
    if (NON_FEATURE_COLUMNS.has(field.name)) continue;
    const vector = table.getChild(field.name)!;
    columns.set(field.name, DataType.isFloat(field.type) || DataType.isInt(field.type) ? intOrFloatToFloat64(vector) : stringValues(vector, n));
  }
  const labelValues = intOrFloatToFloat64(table.getChild('label')!);
  const labels = Uint8Array.from(labelValues, (v) => (v === 1 ? 1 : 0));
  return { manifest, rows: n, columns, labels, patientKeys: stringValues(table.getChild('patient_key'), n) };
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

export function splitByPatient(patientKeys: (string | null)[], testFraction: number, seed: number): { train: Uint32Array; test: Uint32Array } {
  const train: number[] = [];
  const test: number[] = [];
  patientKeys.forEach((key, row) => (patientUnit(seed, key ?? '') < testFraction ? test : train).push(row));
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}
