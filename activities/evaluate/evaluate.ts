/**
 * Evaluation of held-out predictions: headline metrics, curves, calibration, thresholds, metrics
 * per subgroup (sex, race, age band), and the self-contained report.html.
 */
import type { FeatureColumns } from '../features/pipeline.js';
import { type BinaryMetrics, binaryMetrics, calibration, prCurve, rocCurve, subgroupMetrics, thresholdTable } from './metrics.js';
import type { Importance } from './importance.js';
import { renderReport } from './report-html.js';

export interface EvaluateInput {
  title: string;
  scores: Float64Array;
  labels: Uint8Array;
  /** Rows of `columns` the scores belong to, in the same order. */
  rows: Uint32Array;
  columns: FeatureColumns;
  facts?: { label: string; value: string }[];
  /** Permutation importance, drawn in the report when given. */
  importance?: Importance[];
}

export type SubgroupTable = { group: string; count: number; positives: number; rocAuc: number | null; brier: number; ece: number }[];

export interface Evaluation {
  metrics: BinaryMetrics;
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

export function evaluatePredictions(input: EvaluateInput): Evaluation {
  const metrics = binaryMetrics(input.scores, input.labels);
  const subgroups: Record<string, SubgroupTable> = {};
  for (const attribute of SUBGROUP_ATTRIBUTES) {
    const groups = groupValues(input.columns, input.rows, attribute);
    if (groups) subgroups[attribute] = subgroupMetrics(input.scores, input.labels, groups);
  }
  const reportHtml = renderReport({
    title: input.title,
    facts: input.facts ?? [],
    metrics,
    roc: rocCurve(input.scores, input.labels),
    pr: prCurve(input.scores, input.labels),
    calibration: calibration(input.scores, input.labels),
    thresholds: thresholdTable(input.scores, input.labels),
    subgroups: Object.entries(subgroups).map(([attribute, rows]) => ({ attribute, rows })),
    ...(input.importance ? { featureImportance: input.importance.map(({ feature, importance }) => ({ feature, importance })) } : {}),
  });
  return { metrics, subgroups, reportHtml };
}
