/**
 * report.html for the model registry: one self-contained page with the ROC, precision-recall,
 * calibration and decision curves, the headline metrics with their 95% confidence intervals
 * (TRIPOD items 10d and 16), the calibration slope and intercept, the threshold and subgroup
 * tables and, when given, feature importance. Charts are Vega-Lite specs rendered to inline SVG
 * (activities/reports); every piece of input text is escaped. The output is a pure function of
 * the input, so the same evaluation renders byte-identical reports.
 */
import type { BinaryMetrics, CalibrationBin, PrCurve, RocCurve, SubgroupMetrics, ThresholdRow } from './metrics.js';
import type { BootstrapMetric, Interval } from './metrics-bootstrap.js';
import type { CalibrationFit, DecisionCurvePoint } from './metrics-clinical.js';
import type { AucInterval } from './metrics-delong.js';
import { barChart, calibrationChart, multiLineChart, unitCurveChart } from '../reports/charts.js';
import { downsampleCurve } from '../reports/downsample.js';
import { escapeHtml, figures, formatInterval, formatNumber, header, page, table } from '../reports/html.js';
import { type ChartSpec, renderSvgs } from '../reports/vega-svg.js';

/** TRIPOD additions: present when the evaluation computed them (every training run does). */
export interface ClinicalEvaluation {
  delong: AucInterval;
  /** Percentile bootstrap over patients. */
  bootstrap: Record<BootstrapMetric, Interval>;
  bootstrapReplicates: number;
  calibrationFit: CalibrationFit;
  decisionCurve: readonly DecisionCurvePoint[];
}

export interface ReportInput {
  /** Page heading, e.g. "readmission-30d v12". */
  title: string;
  /** Facts shown under the heading (model, version, created, dataset manifest, gate...). */
  facts?: ReadonlyArray<{ label: string; value: string }>;
  metrics: BinaryMetrics;
  roc: RocCurve;
  pr: PrCurve;
  calibration: readonly CalibrationBin[];
  clinical?: ClinicalEvaluation;
  thresholds?: readonly ThresholdRow[];
  /** One table per attribute (sex, race, age band). */
  subgroups?: ReadonlyArray<{ attribute: string; rows: readonly SubgroupMetrics[] }>;
  /** Signed or unsigned importance per feature; the 30 largest by magnitude are drawn. */
  featureImportance?: ReadonlyArray<{ feature: string; importance: number }>;
}

const MAX_CURVE_POINTS = 200;
const MAX_IMPORTANCE_BARS = 30;

function points(c: { x: number[]; y: number[] }): { x: number; y: number }[] {
  return c.x.map((x, i) => ({ x, y: c.y[i]! }));
}

function charts(input: ReportInput): { spec: ChartSpec; label: string }[] {
  const m = input.metrics;
  const prevalence = m.count > 0 ? m.positives / m.count : NaN;
  const out: { spec: ChartSpec; label: string }[] = [];
  const add = (spec: ChartSpec, label: string): void => void out.push({ spec, label });
  const roc = downsampleCurve(input.roc.fpr, input.roc.tpr, MAX_CURVE_POINTS);
  const pr = downsampleCurve(input.pr.recall, input.pr.precision, MAX_CURVE_POINTS);
  const rocTitle = `ROC curve (AUC ${formatNumber(m.rocAuc)})`;
  add(unitCurveChart({ title: rocTitle, xTitle: 'False positive rate', yTitle: 'True positive rate', points: points(roc), diagonal: true }), rocTitle);
  const prTitle = `Precision-recall (AP ${formatNumber(m.averagePrecision)})`;
  add(unitCurveChart({ title: prTitle, xTitle: 'Recall', yTitle: 'Precision', points: points(pr), baseline: prevalence }), prTitle);
  const calTitle = `Calibration (ECE ${formatNumber(m.ece)})`;
  add(calibrationChart(calTitle, input.calibration), calTitle);
  const dc = input.clinical?.decisionCurve;
  if (dc && dc.length > 0) {
    const top = Math.max(0.01, prevalence, ...dc.map((p) => p.model));
    add(
      multiLineChart({
        title: 'Decision curve',
        xTitle: 'Threshold probability',
        yTitle: 'Net benefit',
        yDomain: [-0.05, Number((top * 1.1).toFixed(4))],
        series: [
          { name: 'Model', points: dc.map((p) => ({ x: p.threshold, y: p.model })) },
          { name: 'Treat all', points: dc.map((p) => ({ x: p.threshold, y: p.treatAll })), dashed: true },
          { name: 'Treat none', points: dc.map((p) => ({ x: p.threshold, y: 0 })), dashed: true },
        ],
      }),
      'Decision curve',
    );
  }
  return out;
}

export async function renderReport(input: ReportInput): Promise<string> {
  const m = input.metrics;
  const c = input.clinical;
  const prevalence = m.count > 0 ? m.positives / m.count : NaN;
  const body: string[] = [header(input.title, input.facts)];
  body.push(figures(await renderSvgs(charts(input))));
  body.push(
    '<p class="note">Dashed lines: chance (ROC), prevalence (precision-recall), perfect calibration, treat all and treat none (decision curve). Grey bars: rows per calibration bin.</p>',
  );

  body.push('<section><h2>Metrics</h2>');
  const ci = (k: BootstrapMetric, digits = 3): string => (c ? formatInterval(c.bootstrap[k].lower, c.bootstrap[k].upper, digits) : '\u2014');
  const rows: string[][] = [
    ['Rows', String(m.count), ''],
    ['Positives', `${m.positives} (${formatNumber(prevalence * 100, 1)}%)`, ''],
    ['ROC AUC', formatNumber(m.rocAuc), c ? `${formatInterval(c.delong.lower, c.delong.upper)} (DeLong)` : '\u2014'],
    ['Average precision', formatNumber(m.averagePrecision), ci('averagePrecision')],
    ['Brier score', formatNumber(m.brier, 4), ci('brier', 4)],
    ['Log loss', formatNumber(m.logLoss, 4), ci('logLoss', 4)],
    ['Expected calibration error', formatNumber(m.ece, 4), ci('ece', 4)],
  ];
  if (c) {
    rows.push(['Calibration slope', formatNumber(c.calibrationFit.slope), ci('calibrationSlope')]);
    rows.push(['Calibration intercept (in the large)', formatNumber(c.calibrationFit.intercept), ci('calibrationIntercept')]);
  }
  body.push(table(['Metric', 'Value', '95% CI'], rows));
  if (c) {
    body.push(
      `<p class="note">Intervals: DeLong for ROC AUC; otherwise the 2.5th and 97.5th percentiles of ${c.bootstrapReplicates} bootstrap resamples of patients (seeded). ` +
        'Calibration slope and intercept: logistic recalibration on logit(risk); ideal values 1 and 0.</p>',
    );
  }
  body.push('</section>');

  if (input.thresholds && input.thresholds.length > 0) {
    body.push('<section><h2>Decision thresholds</h2><p class="note">A row is flagged when its predicted risk is at or above the threshold.</p>');
    body.push(
      table(
        ['Threshold', 'Flagged', 'TP', 'FP', 'TN', 'FN', 'Sensitivity', 'Specificity', 'PPV', 'NPV'],
        input.thresholds.map((r) => [
          formatNumber(r.threshold, 2),
          `${formatNumber(r.flaggedRate * 100, 1)}%`,
          String(r.tp),
          String(r.fp),
          String(r.tn),
          String(r.fn),
          formatNumber(r.sensitivity),
          formatNumber(r.specificity),
          formatNumber(r.ppv),
          formatNumber(r.npv),
        ]),
      ),
    );
    body.push('</section>');
  }

  for (const s of input.subgroups ?? []) {
    body.push(`<section><h2>Subgroups: ${escapeHtml(s.attribute)}</h2>`);
    body.push(
      table(
        ['Group', 'Rows', 'Positives', 'ROC AUC', 'Brier', 'ECE'],
        s.rows.map((r) => [
          escapeHtml(r.group),
          String(r.count),
          String(r.positives),
          formatNumber(r.rocAuc),
          formatNumber(r.brier, 4),
          formatNumber(r.ece, 4),
        ]),
      ),
    );
    body.push('</section>');
  }

  if (input.featureImportance && input.featureImportance.length > 0) {
    const top = [...input.featureImportance]
      .sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance) || (a.feature < b.feature ? -1 : 1))
      .slice(0, MAX_IMPORTANCE_BARS);
    const shown = top.length < input.featureImportance.length ? ` (top ${top.length} of ${input.featureImportance.length})` : '';
    const [svg] = await renderSvgs(
      [
        {
          spec: barChart({ title: 'Importance', xTitle: 'Importance', bars: top.map((t) => ({ label: t.feature, value: t.importance })) }),
          label: 'Importance',
        },
      ],
      'importance-',
    );
    body.push(`<section><h2>Feature importance${shown}</h2>${figures([svg!], 'wide')}</section>`);
  }
  return page(input.title, body);
}
