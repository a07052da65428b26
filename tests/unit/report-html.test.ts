import test from 'ava';
import { binaryMetrics, calibration, prCurve, rocCurve, subgroupMetrics, thresholdTable } from '../../activities/evaluate/metrics.js';
import { renderReport, type ReportInput } from '../../activities/evaluate/report-html.js';
import { downsampleCurve } from '../../activities/evaluate/report-svg.js';

const EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> & \'q\'';

/** 5,000 distinct scores, so the raw curves have thousands of points to thin. */
function evaluation(withImportance: boolean): ReportInput {
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

test('renderReport draws one svg per plot and thins each curve to at most 200 points', (t) => {
  const html = renderReport(evaluation(true));
  t.is(html.match(/<svg /g)?.length, 4);
  t.is(renderReport(evaluation(false)).match(/<svg /g)?.length, 3);
  const polylines = [...html.matchAll(/<polyline class="curve" points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length);
  t.is(polylines.length, 3);
  t.true(polylines[0]! > 50 && polylines[0]! <= 200, `ROC has ${polylines[0]} points`);
  t.true(polylines[1]! > 50 && polylines[1]! <= 200, `PR has ${polylines[1]} points`);
  t.is(polylines[2], 10); // one point per filled calibration bin
  t.true(html.includes('Calibration'));
  t.true(html.includes('class="reference"'), 'reference lines (chance, prevalence, diagonal) are drawn');
});

test('renderReport escapes every label taken from its input', (t) => {
  const html = renderReport(evaluation(true));
  t.false(html.includes('<script'));
  t.false(html.includes('<img'));
  t.false(html.includes('alert("x")'));
  const escaped = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;';
  // Title, heading, the fact, the subgroup row and the feature bar label.
  t.is(html.split(escaped).length - 1, 5);
});

test('renderReport is self-contained: no http(s) reference, no script, no external asset', (t) => {
  const html = renderReport(evaluation(true));
  t.false(/https?:/i.test(html));
  t.false(/<(link|script|img|iframe|object|embed|image|use)\b|@import|url\(/i.test(html));
  t.true(html.startsWith('<!doctype html>'));
  t.is(renderReport(evaluation(true)), html, 'the same input renders the same bytes');
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
