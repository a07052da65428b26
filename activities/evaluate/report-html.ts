/**
 * report.html for the model registry: one self-contained page (inline CSS and SVG, no script,
 * no external asset or link) with the ROC, precision-recall and calibration plots, the headline
 * metrics, the threshold and subgroup tables and, when given, feature importance. Every piece of
 * text from the input is escaped. The output is a pure function of the input, so the same
 * evaluation renders byte-identical reports.
 */
import type { BinaryMetrics, CalibrationBin, PrCurve, RocCurve, SubgroupMetrics, ThresholdRow } from './metrics.js';
import { barChart, downsampleCurve, escapeHtml, formatNumber, unitSquarePlot } from './report-svg.js';

export interface ReportInput {
  /** Page heading, e.g. "readmission-30d v12". */
  title: string;
  /** Facts shown under the heading (model, version, created, dataset manifest, gate...). */
  facts?: ReadonlyArray<{ label: string; value: string }>;
  metrics: BinaryMetrics;
  roc: RocCurve;
  pr: PrCurve;
  calibration: readonly CalibrationBin[];
  thresholds?: readonly ThresholdRow[];
  /** One table per attribute (sex, race, age band). */
  subgroups?: ReadonlyArray<{ attribute: string; rows: readonly SubgroupMetrics[] }>;
  /** Signed or unsigned importance per feature; the 30 largest by magnitude are drawn. */
  featureImportance?: ReadonlyArray<{ feature: string; importance: number }>;
}

const MAX_CURVE_POINTS = 200;
const MAX_IMPORTANCE_BARS = 30;

export function renderReport(input: ReportInput): string {
  const m = input.metrics;
  const roc = downsampleCurve(input.roc.fpr, input.roc.tpr, MAX_CURVE_POINTS);
  const pr = downsampleCurve(input.pr.recall, input.pr.precision, MAX_CURVE_POINTS);
  const filled = input.calibration.filter((b) => b.count > 0);
  const maxCount = Math.max(1, ...input.calibration.map((b) => b.count));
  const prevalence = m.count > 0 ? m.positives / m.count : NaN;

  const plots = [
    unitSquarePlot({
      title: `ROC curve (AUC ${formatNumber(m.rocAuc)})`,
      xLabel: 'False positive rate',
      yLabel: 'True positive rate',
      diagonal: true,
      lines: [{ ...roc, className: 'curve' }],
    }),
    unitSquarePlot({
      title: `Precision-recall (AP ${formatNumber(m.averagePrecision)})`,
      xLabel: 'Recall',
      yLabel: 'Precision',
      baseline: prevalence,
      lines: [{ ...pr, className: 'curve' }],
    }),
    unitSquarePlot({
      title: `Calibration (ECE ${formatNumber(m.ece)})`,
      xLabel: 'Mean predicted risk',
      yLabel: 'Observed fraction positive',
      diagonal: true,
      bars: input.calibration.map((b) => ({ lower: b.lower, upper: b.upper, height: b.count / maxCount })),
      lines: [{ x: filled.map((b) => b.meanPredicted!), y: filled.map((b) => b.fractionPositive!), className: 'curve', markers: true }],
    }),
  ];

  const body: string[] = [];
  body.push(`<header><h1>${escapeHtml(input.title)}</h1>`);
  if (input.facts && input.facts.length > 0) {
    body.push('<dl class="facts">');
    for (const f of input.facts) body.push(`<div><dt>${escapeHtml(f.label)}</dt><dd>${escapeHtml(f.value)}</dd></div>`);
    body.push('</dl>');
  }
  body.push('</header>');
  body.push(`<section class="plots">${plots.map((p) => `<figure>${p}</figure>`).join('\n')}</section>`);
  body.push('<p class="note">Dashed lines: chance (ROC), prevalence (precision-recall), perfect calibration. Grey bars: rows per calibration bin.</p>');

  body.push('<section><h2>Metrics</h2>');
  body.push(
    table(
      ['Metric', 'Value'],
      [
        ['Rows', String(m.count)],
        ['Positives', `${m.positives} (${formatNumber(prevalence * 100, 1)}%)`],
        ['ROC AUC', formatNumber(m.rocAuc)],
        ['Average precision', formatNumber(m.averagePrecision)],
        ['Brier score', formatNumber(m.brier, 4)],
        ['Log loss', formatNumber(m.logLoss, 4)],
        ['Expected calibration error', formatNumber(m.ece, 4)],
      ],
    ),
  );
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
    body.push(`<section><h2>Feature importance${shown}</h2><figure class="wide">`);
    body.push(
      barChart(
        'Importance',
        top.map((t) => ({ label: t.feature, value: t.importance })),
      ),
    );
    body.push('</figure></section>');
  }

  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

/** Cells must already be escaped (numbers are; callers escape text). */
function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;margin:2rem auto;max-width:1200px;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #d9e2ec;padding-bottom:.25rem}
.facts{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0;font-size:.9rem}.facts div{display:flex;gap:.4rem}.facts dt{color:#627d98}.facts dd{margin:0;font-weight:600}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem;margin-top:1.5rem}
figure{margin:0;border:1px solid #d9e2ec;border-radius:6px;padding:.5rem;background:#fff}
.chart{width:100%;height:auto;display:block}.chart text{font-size:11px;fill:#334e68}.chart .chart-title{font-size:13px;font-weight:600;fill:#102a43}
.chart .axis-title{font-size:12px}.grid{stroke:#eef2f6;stroke-width:1}.frame{fill:none;stroke:#9fb3c8}.axis{stroke:#627d98}
.reference{stroke:#9fb3c8;stroke-dasharray:5 4;stroke-width:1.2}.curve{fill:none;stroke:#2563eb;stroke-width:2;stroke-linejoin:round}
.curve-marker{fill:#2563eb;stroke:#fff;stroke-width:1}.bar-count{fill:#d9e2ec}.bar-pos{fill:#2563eb}.bar-neg{fill:#dc6803}
.note{color:#627d98;font-size:.85rem;margin:.5rem 0}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}th,td{padding:.3rem .75rem;text-align:right;border-bottom:1px solid #eef2f6}
th{background:#f5f7fa;color:#334e68;font-weight:600}th:first-child,td:first-child{text-align:left}
`;
