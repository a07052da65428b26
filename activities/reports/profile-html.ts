/**
 * profile.html: a dataset profile in the house style (html.ts) with charts from charts.ts: the
 * label rate over time, then per feature its type, missing rate, distribution (histogram or top
 * categories), quantiles and association with the label. A pure function of the profile.
 */
import { barChart, histogramChart, multiLineChart } from './charts.js';
import { escapeHtml, figures, formatNumber, header, page, table } from './html.js';
import type { DatasetProfile } from './profile-stats.js';
import { type ChartSpec, renderSvgs } from './vega-svg.js';

const pct = (v: number): string => `${formatNumber(v * 100, 1)}%`;

export async function renderProfile(title: string, facts: ReadonlyArray<{ label: string; value: string }>, profile: DatasetProfile): Promise<string> {
  const charts: { spec: ChartSpec; label: string }[] = [];
  const periods = profile.labelByPeriod.filter((p) => /^\d{4}-\d{2}$/.test(p.period));
  if (periods.length > 0) {
    charts.push({
      label: 'Label rate by month',
      spec: multiLineChart({
        title: 'Label rate by month of discharge',
        xTitle: 'Month',
        yTitle: 'Label rate',
        xTemporal: true,
        width: 640,
        series: [
          {
            name: 'Label rate',
            points: periods.map((p) => ({ x: Date.UTC(Number(p.period.slice(0, 4)), Number(p.period.slice(5, 7)) - 1, 1), y: p.labelRate })),
          },
        ],
      }),
    });
  }
  for (const f of profile.features) {
    if (f.type === 'numeric') {
      if (f.histogram.length > 0) charts.push({ label: f.name, spec: histogramChart({ title: f.name, xTitle: f.name, bins: f.histogram }) });
    } else if (f.top.length > 0) {
      charts.push({
        label: f.name,
        spec: barChart({ title: f.name, xTitle: 'Rows', width: 300, bars: f.top.map((c) => ({ label: c.category, value: c.rows })) }),
      });
    }
  }
  const svgs = await renderSvgs(charts, 'profile-');
  const body = [
    header(title, [...facts, { label: 'rows', value: String(profile.rows) }, { label: 'label rate', value: pct(profile.labelRate) }]),
    figures(svgs),
    '<section><h2>Numeric features</h2>',
    '<p class="note">Correlation: Pearson with the label over the rows where the feature is present. Quantiles and histograms from a hash sample of at most 4,096 rows per feature when marked sampled.</p>',
    table(
      ['Feature', 'Missing', 'Mean', 'SD', 'Min', 'p5', 'p25', 'Median', 'p75', 'p95', 'Max', 'Corr. with label', 'Sampled'],
      profile.features.flatMap((f) =>
        f.type !== 'numeric'
          ? []
          : [
              [
                escapeHtml(f.name),
                pct(f.missingRate),
                formatNumber(f.mean),
                formatNumber(f.std),
                formatNumber(f.min),
                formatNumber(f.quantiles['p5']),
                formatNumber(f.quantiles['p25']),
                formatNumber(f.quantiles['p50']),
                formatNumber(f.quantiles['p75']),
                formatNumber(f.quantiles['p95']),
                formatNumber(f.max),
                formatNumber(f.labelCorrelation),
                f.sampled ? 'yes' : 'no',
              ],
            ],
      ),
    ),
    '</section><section><h2>Categorical features</h2>',
    table(
      ['Feature', 'Missing', 'Distinct', 'Top categories (rows, label rate)'],
      profile.features.flatMap((f) =>
        f.type !== 'categorical'
          ? []
          : [
              [
                escapeHtml(f.name),
                pct(f.missingRate),
                String(f.distinct),
                f.top.map((c) => `${escapeHtml(c.category)} (${c.rows}, ${pct(c.labelRate)})`).join('; '),
              ],
            ],
      ),
    ),
    '</section><section><h2>Label rate by month</h2>',
    table(
      ['Month', 'Rows', 'Label rate'],
      profile.labelByPeriod.map((p) => [escapeHtml(p.period), String(p.rows), pct(p.labelRate)]),
    ),
    '</section>',
  ];
  return page(title, body);
}
