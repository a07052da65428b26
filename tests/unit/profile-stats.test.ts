import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mulberry32 } from '../../core/random.js';
import type { FeatureValues } from '../../activities/features/pipeline.js';
import {
  finishProfile,
  mergeProfiles,
  PROFILE_SAMPLE,
  profilePartial,
  type NumericProfile,
  type CategoricalProfile,
} from '../../activities/reports/profile-stats.js';

/** n stays: age (half-integers, 10% missing), a wide lab value, payer (categorical, 5% missing), months of 2025. */
function fixture(n: number, seed: number) {
  const rand = mulberry32(seed);
  const age = new Float64Array(n);
  const lab = new Float64Array(n);
  const payer: (string | null)[] = [];
  const labels = new Uint8Array(n);
  const ids: string[] = [];
  const months: string[] = [];
  for (let i = 0; i < n; i++) {
    age[i] = rand() < 0.1 ? NaN : Math.floor(rand() * 180) / 2;
    lab[i] = Math.round(rand() ** 3 * 4000) / 4;
    payer.push(rand() < 0.05 ? null : ['medicare', 'medicaid', 'private', 'self'][Math.floor(rand() * 4)]!);
    labels[i] = rand() < 0.1 + (Number.isNaN(age[i]!) ? 0 : age[i]! / 200) ? 1 : 0;
    ids.push(`enc-${seed}-${i}`);
    months.push(`2025-${String(1 + (i % 12)).padStart(2, '0')}`);
  }
  const columns = new Map<string, FeatureValues>([
    ['age', age],
    ['lab', lab],
    ['payer', payer],
  ]);
  return { columns, labels, ids, months, age, lab, payer };
}

function slice(f: ReturnType<typeof fixture>, from: number, to: number) {
  const columns = new Map<string, FeatureValues>([
    ['age', f.age.slice(from, to)],
    ['lab', f.lab.slice(from, to)],
    ['payer', f.payer.slice(from, to)],
  ]);
  return profilePartial(columns, f.labels.slice(from, to), f.ids.slice(from, to), f.months.slice(from, to));
}

test('merged bucket partials give the profile of all rows, whatever the grouping', (t) => {
  const f = fixture(3 * PROFILE_SAMPLE, 5); // more rows than the sample keeps
  const whole = profilePartial(f.columns, f.labels, f.ids, f.months);
  const a = slice(f, 0, 1000);
  const b = slice(f, 1000, 7000);
  const c = slice(f, 7000, f.labels.length);
  const merged = mergeProfiles([c, mergeProfiles([a, b])]);
  // Sums of half-integers and quarter-integers are exact in any order, so everything is equal.
  t.deepEqual(merged, whole);
  t.deepEqual(finishProfile(mergeProfiles([b, a, c])), finishProfile(whole));
  const age = finishProfile(whole).features.find((x) => x.name === 'age') as NumericProfile;
  t.true(age.sampled);
});

test('finishProfile agrees with numpy on missing rate, moments, quantiles and correlation with the label', (t) => {
  const f = fixture(3000, 9); // under the sample size, so quantiles are exact
  const profile = finishProfile(profilePartial(f.columns, f.labels, f.ids, f.months));
  const script = String.raw`
import json, sys
import numpy as np
d = json.load(sys.stdin)
y = np.array(d['labels'], dtype=float)
out = {}
for name in ('age', 'lab'):
  x = np.array([np.nan if v is None else v for v in d[name]], dtype=float)
  m = ~np.isnan(x)
  out[name] = {'missing': float((~m).mean()), 'mean': float(x[m].mean()), 'std': float(x[m].std(ddof=1)),
    'q': [float(np.quantile(x[m], q)) for q in (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)], 'corr': float(np.corrcoef(x[m], y[m])[0, 1])}
print(json.dumps(out))`;
  const input = JSON.stringify({
    labels: Array.from(f.labels),
    age: Array.from(f.age, (v) => (Number.isNaN(v) ? null : v)),
    lab: Array.from(f.lab),
  });
  const ref = JSON.parse(execFileSync('python3', ['-c', script], { input, encoding: 'utf8' })) as Record<
    string,
    { missing: number; mean: number; std: number; q: number[]; corr: number }
  >;
  for (const name of ['age', 'lab']) {
    const p = profile.features.find((x) => x.name === name) as NumericProfile;
    const r = ref[name]!;
    t.false(p.sampled);
    t.true(Math.abs(p.missingRate - r.missing) < 1e-15, `${name} missing`);
    t.true(Math.abs(p.mean! - r.mean) < 1e-9 * Math.abs(r.mean), `${name} mean`);
    t.true(Math.abs(p.std! - r.std) < 1e-9 * r.std, `${name} std`);
    t.true(Math.abs(p.labelCorrelation! - r.corr) < 1e-9, `${name} corr ${p.labelCorrelation} vs ${r.corr}`);
    t.deepEqual(
      Object.values(p.quantiles).map((v) => v.toFixed(9)),
      r.q.map((v) => v.toFixed(9)),
      `${name} quantiles`,
    );
    t.is(
      p.histogram.reduce((s, b) => s + b.count, 0),
      Math.round(3000 * (1 - r.missing)),
      `${name} histogram counts every present row`,
    );
  }
  const payer = profile.features.find((x) => x.name === 'payer') as CategoricalProfile;
  t.is(payer.distinct, 4);
  t.is(
    payer.top.reduce((s, c) => s + c.rows, 0),
    f.payer.filter((p) => p !== null).length,
  );
  t.deepEqual(
    profile.labelByPeriod.map((p) => p.rows),
    Array(12).fill(250),
  );
});

test('mergeProfiles refuses a feature that is numeric in one shard and categorical in another', (t) => {
  const a = profilePartial(new Map([['x', Float64Array.of(1)]]), Uint8Array.of(0), ['a'], ['2025-01']);
  const b = profilePartial(new Map([['x', ['v']]]), Uint8Array.of(1), ['b'], ['2025-01']);
  t.throws(() => mergeProfiles([a, b]), { message: 'profile: feature x is numeric in one shard and categorical in another' });
});
