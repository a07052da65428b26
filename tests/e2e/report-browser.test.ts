/**
 * The reports as a person sees them: each page is written to .test-artifacts/reports/, opened
 * from disk in headless Chromium with every network request refused, and checked chart by chart
 * (an SVG with a non-empty box and marks drawn); a full-page screenshot is saved beside it. Runs
 * without services: `npx ava dist/tests/e2e/report-browser.test.js`.
 */
import test from 'ava';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../core/config.js';
import { mulberry32 } from '../../core/random.js';
import { clinicalEvaluation } from '../../activities/evaluate/evaluate.js';
import { binaryMetrics, calibration, prCurve, rocCurve, subgroupMetrics, thresholdTable } from '../../activities/evaluate/metrics.js';
import { renderReport } from '../../activities/evaluate/report-html.js';
import { finishProfile, profilePartial } from '../../activities/reports/profile-stats.js';
import { renderProfile } from '../../activities/reports/profile-html.js';
import type { FeatureValues } from '../../activities/features/pipeline.js';
import { withChromium } from '../helpers/chromium.js';

const ARTIFACTS = join(process.env.CAREPIPE_TEST_ARTIFACTS ?? join(REPO_ROOT, '.test-artifacts'), 'reports');

/** 20,000 test stays of 8,000 patients with a risk score that ranks and calibrates imperfectly. */
async function modelReport(): Promise<string> {
  const rand = mulberry32(17);
  const n = 20_000;
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  const patients: string[] = [];
  const sex: string[] = [];
  for (let i = 0; i < n; i++) {
    const risk = rand() ** 2;
    scores[i] = Math.min(1, Math.max(0, risk * 0.9 + rand() * 0.1));
    labels[i] = rand() < risk ? 1 : 0;
    patients.push(`p${i % 8000}`);
    sex.push(i % 2 === 0 ? 'F' : 'M');
  }
  return renderReport({
    title: 'readmission-30d 20261203T000000Z-logreg',
    facts: [{ label: 'family', value: 'logreg' }],
    metrics: binaryMetrics(scores, labels),
    roc: rocCurve(scores, labels),
    pr: prCurve(scores, labels),
    calibration: calibration(scores, labels),
    clinical: clinicalEvaluation(scores, labels, patients, 1),
    thresholds: thresholdTable(scores, labels),
    subgroups: [{ attribute: 'sex', rows: subgroupMetrics(scores, labels, sex) }],
    featureImportance: Array.from({ length: 40 }, (_, k) => ({ feature: `feature_${k}`, importance: (k % 3 === 0 ? -1 : 1) / (k + 1) })),
  });
}

/** A profile of 30,000 stays: two numeric features, one categorical, two years of months. */
async function profileReport(): Promise<string> {
  const rand = mulberry32(29);
  const n = 30_000;
  const age = new Float64Array(n);
  const los = new Float64Array(n);
  const payer: (string | null)[] = [];
  const labels = new Uint8Array(n);
  const ids: string[] = [];
  const months: string[] = [];
  for (let i = 0; i < n; i++) {
    age[i] = rand() < 0.05 ? NaN : 18 + Math.floor(rand() * 80);
    los[i] = Math.ceil(-Math.log(1 - rand()) * 4);
    payer.push(rand() < 0.02 ? null : ['medicare', 'medicaid', 'private', 'self-pay'][Math.floor(rand() * 4)]!);
    labels[i] = rand() < 0.08 + los[i]! / 100 ? 1 : 0;
    ids.push(`e${i}`);
    months.push(`${2024 + Math.floor((i % 24) / 12)}-${String(1 + (i % 12)).padStart(2, '0')}`);
  }
  const columns = new Map<string, FeatureValues>([
    ['age', age],
    ['length_of_stay_days', los],
    ['payer', payer],
  ]);
  return renderProfile(
    'readmission-30d v-test profile',
    [{ label: 'dataset', value: 'readmission-30d' }],
    finishProfile(profilePartial(columns, labels, ids, months)),
  );
}

interface ChartState {
  label: string | null;
  width: number;
  height: number;
  marks: number;
}

/**
 * Evaluated in the page (a string: the tests compile without the DOM library). Marks are the
 * paths, lines and rects vega drew for data (groups with role-mark), not axes or frames.
 */
const CHART_STATES = `[...document.querySelectorAll('figure svg')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const marks = svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > rect').length;
  return { label: svg.getAttribute('aria-label'), width: box.width, height: box.height, marks };
})`;

for (const [name, build, charts] of [
  ['report', modelReport, 5],
  ['profile', profileReport, 4],
] as const) {
  test(`${name}.html renders every one of its ${charts} charts in Chromium with no network and no script`, async (t) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.html`);
    writeFileSync(file, await build());
    t.true(statSync(file).size < 3 * 1024 * 1024, `${name}.html is ${statSync(file).size} bytes`);
    const url = pathToFileURL(file).href;
    await withChromium(async (page) => {
      const refused: string[] = [];
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : (refused.push(route.request().url()), route.abort())));
      await page.goto(url, { waitUntil: 'load' });
      const states = await page.evaluate<ChartState[]>(CHART_STATES);
      t.is(states.length, charts, states.map((s) => s.label).join(', '));
      for (const s of states) {
        t.true(s.width > 100 && s.height > 50, `${s.label} is ${s.width} x ${s.height}`);
        t.true(s.marks > 0, `${s.label} has marks`);
      }
      t.deepEqual(refused, [], 'the page asks for nothing beyond itself');
      t.deepEqual(errors, []);
      t.is(await page.evaluate<number>("document.querySelectorAll('script').length"), 0);
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    });
    t.true(statSync(join(ARTIFACTS, `${name}.png`)).size > 10_000, 'the screenshot holds a drawn page');
  });
}
