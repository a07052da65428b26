import test from 'ava';
import { binaryMetrics, calibration, prCurve, rocCurve, subgroupMetrics, thresholdTable } from '../../activities/evaluate/metrics.js';
import { renderReport, type ReportInput } from '../../activities/evaluate/report-html.js';
import { downsampleCurve } from '../../activities/reports/downsample.js';
import { clinicalEvaluation } from '../../activities/evaluate/evaluate.js';

const EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> & \'q\'';

/** 5,000 distinct scores, so the raw curves have thousands of points to thin. */
function buildEvaluation(withImportance: boolean): ReportInput {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const n = 5000;
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  const groups: string[] = [];
  for (let i = 0; i < n; i++) {
    scores[i] = rand();
    labels[i] = rand() < scores[i]! ? 1 : 0;
    groups.push(i % 3 === 0 ? EVIL : i % 3 === 1 ? 'F' : 'M');
  }
  return {
    title: `readmission ${EVIL}`,
    facts: [{ label: 'Dataset', value: EVIL }],
    metrics: binaryMetrics(scores, labels),
    roc: rocCurve(scores, labels),
    pr: prCurve(scores, labels),
    calibration: calibration(scores, labels),
    clinical: clinicalEvaluation(scores, labels, undefined, 3),
    thresholds: thresholdTable(scores, labels),
    subgroups: [{ attribute: 'sex', rows: subgroupMetrics(scores, labels, groups) }],
    ...(withImportance
      ? {
          featureImportance: [
            { feature: EVIL, importance: -0.4 },
            { feature: 'age', importance: 1.3 },
          ],
        }
      : {}),
  };
}

/** Per figure, the point count (L commands + 1) of each line mark's path, keyed by the mark's Vega-Lite name. */
function linePaths(html: string): Array<Record<string, number[]>> {
  return html
    .split('<figure>')
    .slice(1)
    .map((figure) => {
      const out: Record<string, number[]> = {};
      for (const m of figure.matchAll(/<g class="mark-line role-mark ([a-z_0-9]+)"[^>]*>(.*?)<\/g>/gs)) {
        out[m[1]!] = [...(out[m[1]!] ?? []), ...[...m[2]!.matchAll(/ d="([^"]*)"/g)].map((d) => d[1]!.split('L').length)];
      }
      return out;
    });
}

// Built once: the bootstrap behind the intervals is the slow part.
const WITH_IMPORTANCE = buildEvaluation(true);
const WITHOUT_IMPORTANCE = buildEvaluation(false);
const evaluation = (withImportance: boolean): ReportInput => (withImportance ? WITH_IMPORTANCE : WITHOUT_IMPORTANCE);

test('renderReport draws one svg per chart and thins each curve to at most 200 points', async (t) => {
  const html = await renderReport(evaluation(true));
  // ROC, precision-recall, calibration, decision curve, feature importance.
  t.is(html.match(/<svg /g)?.length, 5);
  t.is((await renderReport(evaluation(false))).match(/<svg /g)?.length, 4);
  const [roc, pr, cal, dc] = linePaths(html);
  // The ROC's layer 0 is the chance diagonal (2 points), layer 1 the curve.
  t.deepEqual(roc!['layer_0_marks'], [2]);
  t.true(roc!['layer_1_marks']![0]! > 50 && roc!['layer_1_marks']![0]! <= 200, `ROC has ${String(roc!['layer_1_marks'])} points`);
  t.true(pr!['layer_1_marks']![0]! > 50 && pr!['layer_1_marks']![0]! <= 200, `PR has ${String(pr!['layer_1_marks'])} points`);
  t.true(html.split('<figure>')[2]!.includes('mark-rule role-mark'), 'the prevalence baseline is drawn on the PR chart');
  t.deepEqual(cal!['layer_2_layer_0_marks'], [10], 'one point per filled calibration bin');
  t.deepEqual(dc!['marks'], [99, 99, 99], 'model, treat all and treat none over thresholds 0.01 to 0.99');
  t.true(html.includes('role-legend'), 'the decision curve names its lines');
});

test('renderReport shows the TRIPOD intervals, the calibration slope and intercept', async (t) => {
  const input = evaluation(false);
  const html = await renderReport(input);
  const c = input.clinical!;
  t.true(html.includes('<th>95% CI</th>'));
  t.true(html.includes(`${c.delong.lower.toFixed(3)} to ${c.delong.upper.toFixed(3)} (DeLong)`));
  t.true(
    html.includes(
      `<td>Brier score</td><td>${input.metrics.brier.toFixed(4)}</td><td>${c.bootstrap.brier.lower.toFixed(4)} to ${c.bootstrap.brier.upper.toFixed(4)}</td>`,
    ),
  );
  t.true(html.includes(`<td>Calibration slope</td><td>${c.calibrationFit.slope.toFixed(3)}</td>`));
  t.true(html.includes('200 bootstrap resamples of patients'));
});

test('renderReport escapes every label taken from its input', async (t) => {
  const html = await renderReport(evaluation(true));
  t.false(html.includes('<script'));
  t.false(html.includes('<img'));
  const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;';
  // Title, heading, the fact and the subgroup row.
  t.is(html.split(escaped).length - 1, 4);
  // The feature's bar label, drawn by vega: text content escapes < > & (quotes are harmless there), truncated to fit.
  t.true(html.includes('>&lt;script&gt;alert("x")&lt;/scri'));
  // Every attribute vega wrote that holds the label escapes its quotes.
  t.false(/="[^"]*<script/.test(html));
});

test('renderReport is self-contained: no http(s) reference, no script, no external asset', async (t) => {
  const html = await renderReport(evaluation(true));
  t.false(/https?:/i.test(html));
  t.false(/<(link|script|img|iframe|object|embed|image|use)\b|@import|url\((?!#)/i.test(html));
  // url(#id) is vega's clip path: it must name an element of the page itself.
  const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]!);
  t.is(new Set(ids).size, ids.length, 'ids are unique in the page');
  for (const m of html.matchAll(/url\(#([^)]+)\)/g)) t.true(ids.includes(m[1]!), `clip ${m[1]} is defined in the page`);
  t.true(html.startsWith('<!doctype html>'));
  t.is(await renderReport(evaluation(true)), html, 'the same input renders the same bytes');
});

test('downsampleCurve keeps the end points, drops NaN points and respects the point budget', (t) => {
  const xs = Array.from({ length: 10_001 }, (_, i) => i / 10_000);
  const ys = xs.map((x) => Math.sqrt(x));
  const thin = downsampleCurve(xs, ys, 200);
  t.true(thin.x.length <= 200 && thin.x.length > 150, `${thin.x.length} points`);
  t.deepEqual([thin.x[0], thin.y[0]], [0, 0]);
  t.deepEqual([thin.x.at(-1), thin.y.at(-1)], [1, 1]);
  t.deepEqual(downsampleCurve([0, NaN, 1], [0, 0.5, 1]), { x: [0, 1], y: [0, 1] });
  t.deepEqual(downsampleCurve([0.25], [0.5]), { x: [0.25], y: [0.5] });
});
