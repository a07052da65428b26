/**
 * The preprocessing pipeline: fitting as a map-reduce of per-shard partials gives the pipeline
 * fitting all rows at once gives (in any shard split and merge order); `transform` is pure and
 * survives a JSON round trip; unseen categories fall in the unknown slot; and the patient split
 * puts no patient on both sides.
 */
import test, { type ExecutionContext } from 'ava';
import { type FitPartial, binValue, finalizePipeline, fitPipeline, histogramMedian, mergePartials, partialOf } from '../../activities/features/fit-stats.js';
import {
  type FeatureColumns,
  MISSING,
  type NumericStep,
  type PreprocessingPipeline,
  UNKNOWN,
  featureMapping,
  featureNames,
  transform,
} from '../../activities/features/pipeline.js';
import { isTestPatient, splitByPatient } from '../../activities/train/feature-set.js';

/** A deterministic stream in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const N = 6000;
function columns(seed = 1): FeatureColumns {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return new Map<string, Float64Array | (string | null)[]>([
    ['age', Float64Array.from({ length: N }, () => 18 + Math.floor(r() * 72))],
    ['los_days', Float64Array.from({ length: N }, () => Math.exp(1.2 + 0.6 * normal()))],
    ['lab_sodium_min', Float64Array.from({ length: N }, () => (r() < 0.1 ? Number.NaN : Math.round(138 + 3 * normal())))],
    ['lab_troponin_mean', Float64Array.from({ length: N }, () => (r() < 0.6 ? Number.NaN : 0.012 * Math.exp(0.9 * normal())))],
    ['constant', new Float64Array(N).fill(2)],
    ['payer', Array.from({ length: N }, () => (r() < 0.05 ? null : ['medicare', 'medicaid', 'commercial', 'self_pay'][Math.floor(r() * 4)]!))],
    ['dx_chapter', Array.from({ length: N }, () => (r() < 0.001 ? 'perinatal' : r() < 0.5 ? 'circulatory' : 'respiratory'))],
  ]);
}

const allRows = Uint32Array.from({ length: N }, (_, i) => i);

/** Rows cut into `k` uneven random shards. */
function shards(k: number, seed: number): Uint32Array[] {
  const r = rng(seed);
  const parts: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < N; i++) parts[Math.floor(r() ** 2 * k)]!.push(i);
  return parts.map((p) => Uint32Array.from(p));
}

function assertSamePipeline(t: ExecutionContext, a: PreprocessingPipeline, b: PreprocessingPipeline): void {
  t.is(a.width, b.width);
  t.is(a.fittedRows, b.fittedRows);
  t.deepEqual(featureNames(a), featureNames(b));
  a.steps.forEach((s, i) => {
    const o = b.steps[i]!;
    t.is(s.name, o.name);
    if (s.kind === 'categorical' || o.kind === 'categorical') {
      t.deepEqual(s, o);
      return;
    }
    for (const k of ['median', 'min', 'max', 'missingIndicator'] as const) t.is(s[k], o[k], `${s.name}.${k}`);
    for (const k of ['mean', 'std'] as const) t.true(Math.abs(s[k] - o[k]) <= 1e-12 * Math.max(1, Math.abs(o[k])), `${s.name}.${k}: ${s[k]} vs ${o[k]}`);
  });
}

test('merging per-shard partials gives the pipeline fitted on all rows at once, whatever the split and merge order', (t) => {
  const cols = columns();
  const whole = fitPipeline(cols, allRows);
  for (const [k, seed] of [
    [2, 1],
    [7, 2],
    [32, 3],
  ] as const) {
    const partials = shards(k, seed).map((rows) => partialOf(cols, rows));
    assertSamePipeline(t, finalizePipeline(mergePartials(partials)), whole);
    assertSamePipeline(t, finalizePipeline(mergePartials([...partials].reverse())), whole);
    // Partials cross a process boundary as JSON (the lake): that changes nothing either.
    const viaJson = partials.map((p) => JSON.parse(JSON.stringify(p)) as FitPartial);
    assertSamePipeline(t, finalizePipeline(mergePartials(viaJson)), whole);
  }
  const x1 = transform(whole, cols, allRows);
  const x2 = transform(finalizePipeline(mergePartials(shards(7, 9).map((rows) => partialOf(cols, rows)))), cols, allRows);
  let worst = 0;
  for (let i = 0; i < x1.length; i++) worst = Math.max(worst, Math.abs(x1[i]! - x2[i]!));
  t.true(worst < 1e-9, `transformed matrices differ by ${worst}`);
});

test('the fitted statistics are the exact ones: counts, extremes, means, deviations, medians, vocabularies', (t) => {
  const cols = columns();
  const p = fitPipeline(cols, allRows);
  const step = (name: string) => p.steps.find((s) => s.name === name) as NumericStep;
  const present = (name: string) => [...(cols.get(name) as Float64Array)].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  for (const name of ['age', 'lab_sodium_min', 'los_days', 'lab_troponin_mean']) {
    const v = present(name);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    const median = v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    const s = step(name);
    t.true(Math.abs(s.mean - mean) < 1e-9 * Math.abs(mean), name);
    t.true(Math.abs(s.std - std) < 1e-6 * std, name);
    t.is(s.min, v[0]!);
    t.is(s.max, v[v.length - 1]!);
    if (name === 'age' || name === 'lab_sodium_min') t.is(s.median, median, `${name}: integers, the exact median`);
    else t.true(Math.abs(s.median - median) <= 5e-4 * Math.abs(median), `${name}: ${s.median} vs ${median}`);
    t.is(s.missingIndicator, v.length < N);
  }
  t.is(step('constant').std, 1, 'a constant column is not divided by zero');
  const dx = p.steps.find((s) => s.name === 'dx_chapter')!;
  t.deepEqual(dx.kind === 'categorical' && dx.vocabulary, ['circulatory', 'respiratory'], 'perinatal is too rare: it goes to the unknown slot');
  const payer = p.steps.find((s) => s.name === 'payer')!;
  t.deepEqual(payer.kind === 'categorical' && payer.vocabulary, [MISSING, 'commercial', 'medicaid', 'medicare', 'self_pay']);
});

test('histogram medians: exact for small integers, 4 significant digits for other values, the middle pair averaged', (t) => {
  t.is(histogramMedian([1, 2, 3], [1, 1, 1]), 2);
  t.is(histogramMedian([1, 2, 3, 4], [1, 1, 1, 1]), 2.5);
  t.is(histogramMedian([5], [10]), 5);
  t.is(histogramMedian([], []), 0);
  t.is(binValue(137), 137);
  t.is(binValue(3.612345), 3.612);
  t.is(binValue(0.0123456), 0.01235);
  t.is(binValue(123456), 123500);
  t.is(binValue(-2.5), -2.5);
});

test('transform is pure, survives a JSON round trip, and sends unseen categories and missing values where they belong', (t) => {
  const cols = columns();
  const train = allRows.subarray(0, 4000);
  const p = fitPipeline(cols, train);
  const copy = new Map([...cols].map(([k, v]) => [k, v instanceof Float64Array ? Float64Array.from(v) : [...v]]));
  const a = transform(p, cols, allRows);
  const b = transform(JSON.parse(JSON.stringify(p)) as PreprocessingPipeline, cols, allRows);
  t.deepEqual(a, b);
  t.deepEqual(transform(p, cols, allRows), a, 'same input, same output');
  t.deepEqual([...cols.keys()], [...copy.keys()]);
  for (const [k, v] of cols) t.deepEqual(v, copy.get(k), `${k} is not modified`);

  const names = featureNames(p);
  t.is(names.length, p.width);
  t.is(featureMapping(p).outputs.length, p.width);
  const serving = new Map(cols);
  serving.set('payer', new Array<string | null>(N).fill('tricare'));
  serving.set('lab_sodium_min', new Float64Array(N).fill(Number.NaN));
  const x = transform(p, serving, Uint32Array.of(0));
  const at = (name: string) => x[names.indexOf(name)]!;
  t.is(at(`payer=${UNKNOWN}`), 1, 'a payer training never saw is unknown');
  t.is(at('payer=medicare'), 0);
  const sodium = p.steps.find((s) => s.name === 'lab_sodium_min') as NumericStep;
  t.is(at('lab_sodium_min'), (sodium.median - sodium.mean) / sodium.std, 'missing: the training median, scaled');
  t.is(at('lab_sodium_min__missing'), 1);
  t.throws(() => transform(p, new Map([...cols].filter(([k]) => k !== 'age')), allRows), { message: 'transform: feature column "age" is missing' });
});

test('the patient split puts every stay of a patient on one side: no patient is in both train and test', (t) => {
  const r = rng(5);
  const patients = Array.from({ length: 5000 }, (_, i) => `p${i.toString(16).padStart(24, '0')}${Math.floor(r() * 1e6)}`);
  const keys = Array.from({ length: 15000 }, () => patients[Math.floor(r() * patients.length)]!);
  const { train, test: held } = splitByPatient(keys, 0.2, 7);
  t.is(train.length + held.length, keys.length);
  const trainPatients = new Set(Array.from(train, (i) => keys[i]));
  const testPatients = new Set(Array.from(held, (i) => keys[i]));
  t.is([...trainPatients].filter((p) => testPatients.has(p)).length, 0);
  t.true(Math.abs(testPatients.size / (trainPatients.size + testPatients.size) - 0.2) < 0.03);
  for (const i of held) t.true(isTestPatient(keys[i]!, 0.2, 7));
  const other = splitByPatient(keys, 0.2, 8);
  t.notDeepEqual(other.test, held, 'another seed, another split');
});
