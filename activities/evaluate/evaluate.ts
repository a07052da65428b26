/**
 * Evaluation of held-out predictions: headline metrics, curves, calibration, thresholds, metrics
 * per subgroup (sex, race, age band), and the self-contained report.html.
 */
import type { FeatureColumns } from '../features/pipeline.js';
import { type BinaryMetrics, binaryMetrics, calibration, prCurve, rocCurve, subgroupMetrics, thresholdTable } from './metrics.js';
import type { Importance } from './importance.js';
import { bootstrapIntervals } from './metrics-bootstrap.js';
import { calibrationFit, decisionCurve } from './metrics-clinical.js';
import { delongAuc } from './metrics-delong.js';
import { type ClinicalEvaluation, renderReport } from './report-html.js';

export interface EvaluateInput {
  title: string;
  scores: Float64Array;
  labels: Uint8Array;
  /** Rows of `columns` the scores belong to, in the same order. */
  rows: Uint32Array;
  columns: FeatureColumns;
  facts?: { label: string; value: string }[];
  /** Patient of each scored row (pseudonymous key): the bootstrap resamples patients. Absent: rows are taken as independent. */
  patients?: readonly string[];
  /** Seed of the bootstrap (the training split's seed). */
  seed?: number;
  /** Permutation importance, drawn in the report when given. */
  importance?: Importance[];
}

export type SubgroupTable = { group: string; count: number; positives: number; rocAuc: number | null; brier: number; ece: number }[];

export interface Evaluation {
  metrics: BinaryMetrics;
  clinical: ClinicalEvaluation;
  subgroups: Record<string, SubgroupTable>;
  reportHtml: string;
}

export function ageBand(age: number): string {
  if (Number.isNaN(age)) return 'unknown';
  if (age < 40) return '<40';
  if (age < 65) return '40-64';
  if (age < 80) return '65-79';
  return '80+';
}

export function groupValues(columns: FeatureColumns, rows: Uint32Array, attribute: string): string[] | undefined {
  if (attribute === 'age_band') {
    const age = columns.get('age');
    return age instanceof Float64Array ? Array.from(rows, (r) => ageBand(age[r]!)) : undefined;
  }
  const values = columns.get(attribute);
  if (!values || values instanceof Float64Array) return undefined;
  return Array.from(rows, (r) => values[r] ?? 'unknown');
}

export const SUBGROUP_ATTRIBUTES = ['sex', 'race', 'age_band'] as const;

/** Bootstrap resamples behind every interval but the AUC's: enough for stable 2.5/97.5 percentiles at a few seconds for 40,000 test rows. */
export const BOOTSTRAP_REPLICATES = 200;

export function clinicalEvaluation(scores: Float64Array, labels: Uint8Array, patients: readonly string[] | undefined, seed: number): ClinicalEvaluation {
  return {
    delong: delongAuc(scores, labels),
    bootstrap: bootstrapIntervals(scores, labels, patients ?? Array.from(scores, (_, i) => String(i)), { replicates: BOOTSTRAP_REPLICATES, seed }),
    bootstrapReplicates: BOOTSTRAP_REPLICATES,
    calibrationFit: calibrationFit(scores, labels),
    decisionCurve: decisionCurve(scores, labels),
  };
}

export async function evaluatePredictions(input: EvaluateInput): Promise<Evaluation> {
  const metrics = binaryMetrics(input.scores, input.labels);
  const subgroups: Record<string, SubgroupTable> = {};
  for (const attribute of SUBGROUP_ATTRIBUTES) {
    const groups = groupValues(input.columns, input.rows, attribute);
    if (groups) subgroups[attribute] = subgroupMetrics(input.scores, input.labels, groups);
  }
  const clinical = clinicalEvaluation(input.scores, input.labels, input.patients, input.seed ?? 1);
  const reportHtml = await renderReport({
    title: input.title,
    facts: input.facts ?? [],
    metrics,
    clinical,
    roc: rocCurve(input.scores, input.labels),
    pr: prCurve(input.scores, input.labels),
    calibration: calibration(input.scores, input.labels),
    thresholds: thresholdTable(input.scores, input.labels),
    subgroups: Object.entries(subgroups).map(([attribute, rows]) => ({ attribute, rows })),
    ...(input.importance ? { featureImportance: input.importance.map(({ feature, importance }) => ({ feature, importance })) } : {}),
  });
  return { metrics, clinical, subgroups, reportHtml };
}
