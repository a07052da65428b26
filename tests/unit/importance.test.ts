import test from 'ava';
import { permutationImportance } from '../../activities/evaluate/importance.js';

// A model that uses column 0 strongly, column 1 weakly, and ignores columns 2 and 3 (one group).
const d = 4;
const n = 3000;
const x = new Float64Array(n * d);
const y = new Uint8Array(n);
let s = 3;
const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
for (let i = 0; i < n; i++) {
  for (let j = 0; j < d; j++) x[i * d + j] = next() * 2 - 1;
  y[i] = next() < 1 / (1 + Math.exp(-(4 * x[i * d]! + 1 * x[i * d + 1]!))) ? 1 : 0;
}
const predict = (m: Float64Array, rows: number) => Float64Array.from({ length: rows }, (_, i) => 1 / (1 + Math.exp(-(4 * m[i * d]! + 1 * m[i * d + 1]!))));
const groups = [
  { feature: 'strong', columns: [0] },
  { feature: 'weak', columns: [1] },
  { feature: 'ignored', columns: [2, 3] },
];

test('features the model relies on rank first, and a feature it ignores has zero importance', async (t) => {
  const result = await permutationImportance(predict, x, y, n, d, groups, { repeats: 3, seed: 5 });
  t.deepEqual(
    result.map((r) => r.feature),
    ['strong', 'weak', 'ignored'],
  );
  t.true(result[0]!.importance > 0.2);
  t.true(result[1]!.importance > 0.005 && result[1]!.importance < result[0]!.importance);
  t.is(result[2]!.importance, 0);
  t.is(result[2]!.std, 0);
});

test('permutation importance is reproducible and leaves the input matrix unchanged', async (t) => {
  const before = Float64Array.from(x);
  const a = await permutationImportance(predict, x, y, n, d, groups, { seed: 9 });
  const b = await permutationImportance(predict, x, y, n, d, groups, { seed: 9 });
  t.deepEqual(a, b);
  t.deepEqual(x, before);
});

test('a group naming a column outside the matrix is refused', async (t) => {
  await t.throwsAsync(() => permutationImportance(predict, x, y, n, d, [{ feature: 'bad', columns: [4] }]), {
    message: 'permutationImportance: feature "bad" names a column outside 0..3',
  });
});
