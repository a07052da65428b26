/**
 * The feature schema a served model takes, from its own preprocessing pipeline: each input's type,
 * unit and plausible range (numeric) or training vocabulary (categorical), and the validation of a
 * feature record against it. Ranges follow the data contract: a lab statistic must be a value a
 * living patient can have in the lake's canonical unit (ingest's lab catalogue, the same bounds
 * that reject impossible raw results); age 0-125 as ingest accepts birth dates; a stay of at most
 * 365 days as ingest accepts encounters. Unknown categories are accepted: `transform` puts them in
 * the unknown slot, as in training.
 */
import { LAB_CATALOG, isPossible, type PossibleRange } from '../activities/ingest/lab-catalog.js';
import type { FeatureColumns, FeatureValues, PreprocessingPipeline } from '../activities/features/pipeline.js';
import { FEATURE_LABS, LAB_STATS, labColumn } from '../activities/features/schema.js';
import { badInput } from './problem.js';

export interface FeatureSpec {
  name: string;
  type: 'number' | 'string';
  unit: string | null;
  /** Inclusive bounds (a lab's lower bound may be exclusive: `minExclusive`). */
  range: PossibleRange | null;
  /** Categories the model has a slot for; anything else goes to the unknown slot. */
  allowedValues: string[] | null;
  /** Whether the pipeline imputes a missing value (numeric) or has a `__missing__` slot (categorical). */
  nullable: boolean;
}

const within = (min: number, max: number): PossibleRange => ({ min, max, minExclusive: false });

/** Contract bounds of the non-lab numeric features (ingest: ages 0-125, stays <= 365 days). */
const BASE_RANGES: Readonly<Record<string, { unit: string; range: PossibleRange }>> = {
  age: { unit: 'years', range: within(0, 125) },
  los_days: { unit: 'days', range: within(0, 365) },
  prior_inpatient_365d: { unit: 'encounters', range: within(0, 366) },
  prior_emergency_180d: { unit: 'encounters', range: within(0, 181) },
  charlson_index: { unit: 'points', range: within(0, 40) },
};

function labSpecs(): Map<string, { unit: string; range: PossibleRange }> {
  const out = new Map<string, { unit: string; range: PossibleRange }>();
  for (const lab of FEATURE_LABS) {
    const range = LAB_CATALOG.get(lab.loinc)!.range;
    for (const stat of LAB_STATS)
      out.set(labColumn(lab.name, stat), stat === 'count' ? { unit: 'results', range: within(0, 100_000) } : { unit: lab.unit, range });
  }
  return out;
}
const LAB_SPECS = labSpecs();

export function featureSchema(pipeline: PreprocessingPipeline): FeatureSpec[] {
  return pipeline.steps.map((s) => {
    if (s.kind === 'categorical') return { name: s.name, type: 'string', unit: null, range: null, allowedValues: [...s.vocabulary], nullable: true };
    const known = BASE_RANGES[s.name] ?? LAB_SPECS.get(s.name);
    return { name: s.name, type: 'number', unit: known?.unit ?? null, range: known?.range ?? null, allowedValues: null, nullable: true };
  });
}

export type FeatureRecord = Record<string, unknown>;

/**
 * Feature records -> the pipeline's input columns (a missing or null value is missing, imputed as
 * in training). Throws a 400 naming `/instances/<i>/features/<name>` and the reason.
 */
export function recordsToColumns(schema: readonly FeatureSpec[], records: readonly FeatureRecord[], pointer: (i: number) => string): FeatureColumns {
  const byName = new Map(schema.map((s) => [s.name, s]));
  records.forEach((record, i) => {
    for (const name of Object.keys(record))
      if (!byName.has(name)) throw badInput(`${pointer(i)}/${escapePointer(name)}`, 'unknown-feature', 'the model has no such feature');
  });
  const columns = new Map<string, FeatureValues>();
  // The field's pointer is built only for an error: a record has over a hundred features.
  const field = (i: number, spec: FeatureSpec) => `${pointer(i)}/${escapePointer(spec.name)}`;
  for (const spec of schema) {
    if (spec.type === 'number') {
      const values = new Float64Array(records.length);
      for (let i = 0; i < records.length; i++) {
        const v = records[i]![spec.name];
        if (v === undefined || v === null) values[i] = Number.NaN;
        else if (typeof v !== 'number' || !Number.isFinite(v)) throw badInput(field(i, spec), 'wrong-type', 'must be a finite number or null');
        else if (spec.range && !isPossible(spec.range, v)) throw badInput(field(i, spec), 'out-of-range', rangeText(spec));
        else values[i] = v;
      }
      columns.set(spec.name, values);
    } else {
      const values = new Array<string | null>(records.length);
      for (let i = 0; i < records.length; i++) {
        const v = records[i]![spec.name];
        if (v === undefined || v === null) values[i] = null;
        else if (typeof v !== 'string') throw badInput(field(i, spec), 'wrong-type', 'must be a string or null');
        else values[i] = v;
      }
      columns.set(spec.name, values);
    }
  }
  return columns;
}

function rangeText(spec: FeatureSpec): string {
  const range = spec.range!;
  const low = range.minExclusive ? `above ${range.min}` : `at least ${range.min}`;
  return `outside the contract's plausible range (${low}, at most ${range.max}${spec.unit ? ` ${spec.unit}` : ''})`;
}

/** RFC 6901: `~` and `/` in a name. */
export const escapePointer = (name: string) => name.replace(/~/g, '~0').replace(/\//g, '~1');
