/**
 * The histogram machinery against brute force on small data: bin edges, histograms (built
 * directly, by subtraction, and on a thread pool), and the best split of a node with missing
 * values, compared with every candidate split evaluated row by row.
 */
import test from 'ava';
import { MISSING_BIN, binMatrix, binOf, edgesFromSketch, fitBinMapper, sketchOf, valueBins } from '../../activities/train/trees/binning.js';
import { createHistogramPool, sharedTrainingArrays } from '../../activities/train/trees/hist-pool.js';
import { allocateTrainingMemory, bindKernels, trainingLayout } from '../../activities/train/trees/hist-wasm.js';
import { BIN_STRIDE, FEATURE_STRIDE, histogramData, histogramLength, inlineBuilder, subtractHistograms } from '../../activities/train/trees/histogram.js';
import { Rng } from '../../activities/train/trees/rng.js';
import { type SplitConstraints, emptySplit, scanFeature } from '../../activities/train/trees/split.js';

/** n rows, d features: feature 0 continuous, 1 small integers, 2 binary, 3 continuous with ~15% missing. */
function smallData(n: number, seed: number): { x: Float64Array; d: number } {
  const d = 4;
  const rng = new Rng(seed);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    x[i * d] = rng.next() * 10 - 5;
    x[i * d + 1] = rng.int(6);
    x[i * d + 2] = rng.next() < 0.3 ? 1 : 0;
    x[i * d + 3] = rng.next() < 0.15 ? Number.NaN : Math.round(rng.next() * 1000) / 10;
  }
  return { x, d };
}

test('edges put every one of up to 255 distinct values in its own bin, midway between neighbours', (t) => {
  const edges = edgesFromSketch(Float64Array.from([1, 2, 4, 8]), Float64Array.from([3, 1, 1, 5]));
  t.deepEqual([...edges], [1.5, 3, 6]);
  t.deepEqual(
    [1, 1.5, 1.6, 2, 4, 8, 100, -1].map((v) => binOf(edges, v)),
    [0, 0, 1, 1, 2, 3, 3, 0],
  );
  t.is(binOf(edges, Number.NaN), MISSING_BIN);
  t.is(edgesFromSketch(Float64Array.from([7]), Float64Array.from([10])).length, 0, 'a constant column has one bin');
});

test('with more distinct values than bins, bins hold about equal counts and a heavy value gets a bin of its own', (t) => {
  const values = Float64Array.from({ length: 1000 }, (_, i) => i);
  const counts = new Float64Array(1000).fill(1);
  counts[500] = 5000; // one value weighs more than a tenth of all rows
  const edges = edgesFromSketch(values, counts, 10);
  t.true(edges.length <= 9);
  for (let i = 1; i < edges.length; i++) t.true(edges[i]! > edges[i - 1]!);
  const heavyBin = binOf(edges, 500);
  t.not(binOf(edges, 499), heavyBin);
  t.not(binOf(edges, 501), heavyBin);
  // The other 999 rows spread over the remaining bins: none holds more than a third of them.
  const perBin = new Map<number, number>();
  for (let v = 0; v < 1000; v++) if (v !== 500) perBin.set(binOf(edges, v), (perBin.get(binOf(edges, v)) ?? 0) + 1);
  t.true(Math.max(...perBin.values()) < 333, `largest bin holds ${Math.max(...perBin.values())}`);
});

test('binMatrix bins exactly as binOf, so "bin <= t" is "value <= edges[t]"', (t) => {
  const n = 3000;
  const rng = new Rng(5);
  const d = 3;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++)
    x[i] = rng.next() < 0.05 ? Number.NaN : rng.next() < 0.02 ? (rng.next() < 0.5 ? -Infinity : Infinity) : Math.round(rng.next() * 5000) / 7;
  const mapper = fitBinMapper(x, n, d);
  const binned = binMatrix(mapper, x, n, d);
  for (let j = 0; j < d; j++) {
    const edges = mapper.edges[j]!;
    t.true(edges.length <= 254);
    for (let i = 0; i < n; i++) {
      const v = x[i * d + j]!;
      const b = binned[j * n + i]!;
      t.is(b, binOf(edges, v));
      if (b !== MISSING_BIN) {
        for (const k of [b - 1, b, b + 1]) if (k >= 0 && k < edges.length) t.is(b <= k, v <= edges[k]!);
      }
    }
  }
});

test('sketchOf counts distinct values and skips missing ones', (t) => {
  const s = sketchOf(Float64Array.from([3, Number.NaN, 1, 3, 2, 3, Number.NaN]));
  t.deepEqual([...s.values], [1, 2, 3]);
  t.deepEqual([...s.counts], [1, 1, 3]);
});

interface Candidate {
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
}

/** Every split of the node rows, evaluated from the rows themselves. */
function bruteForce(binned: Uint8Array, n: number, bins: Uint16Array, gh: Float64Array, rows: number[], k: SplitConstraints): Candidate {
  const sum = (pred: (r: number) => boolean) => {
    let g = 0;
    let h = 0;
    let c = 0;
    for (const r of rows)
      if (pred(r)) {
        g += gh[2 * r]!;
        h += gh[2 * r + 1]!;
        c++;
      }
    return { g, h, c };
  };
  const all = sum(() => true);
  const score = (g: number, h: number) => (g * g) / (h + k.l2);
  let best: Candidate = { gain: -Infinity, feature: -1, bin: 0, missingLeft: false };
  for (let f = 0; f < bins.length; f++) {
    for (let t = 0; t < bins[f]!; t++) {
      for (const missingLeft of [false, true]) {
        const left = sum((r) => {
          const b = binned[f * n + r]!;
          return b === MISSING_BIN ? missingLeft : b <= t;
        });
        const right = { g: all.g - left.g, h: all.h - left.h, c: all.c - left.c };
        if (left.c < k.minSamplesLeaf || right.c < k.minSamplesLeaf || left.h < k.minHessianLeaf || right.h < k.minHessianLeaf) continue;
        const gain = score(left.g, left.h) + score(right.g, right.h) - score(all.g, all.h);
        if (gain > best.gain + 1e-9) best = { gain, feature: f, bin: t, missingLeft };
      }
    }
  }
  return best;
}

function gradients(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const gh = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const p = rng.next();
    gh[2 * i] = p - (rng.next() < 0.4 ? 1 : 0);
    gh[2 * i + 1] = p * (1 - p);
  }
  return gh;
}

test('the best split from histograms has the gain of the best of every split evaluated row by row', (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const n = 240;
    const { x, d } = smallData(n, seed);
    const mapper = fitBinMapper(x, n, d, { maxBins: 16 });
    const bins = valueBins(mapper);
    const binned = binMatrix(mapper, x, n, d);
    const gh = gradients(n, seed + 100);
    // A node of about half the rows, ascending, as the partition keeps them.
    const rows = new Uint32Array(n);
    const members: number[] = [];
    const pick = new Rng(seed + 200);
    for (let i = 0; i < n; i++) if (pick.next() < 0.55) members.push(i);
    rows.set(members);
    const data = histogramData(binned, n, d, gh, rows, bins);
    const hist = new Float64Array(histogramLength(d));
    const features = Int32Array.from([0, 1, 2, 3]);
    inlineBuilder(data).build(hist, features, d, 0, members.length, false);
    let g = 0;
    let h = 0;
    for (const r of members) {
      g += gh[2 * r]!;
      h += gh[2 * r + 1]!;
    }
    for (const k of [
      { l2: 0, minSamplesLeaf: 1, minHessianLeaf: 0, minGainToSplit: 0 },
      { l2: 1, minSamplesLeaf: 20, minHessianLeaf: 1e-3, minGainToSplit: 0 },
    ]) {
      const best = emptySplit();
      for (let f = 0; f < d; f++) scanFeature(hist, f, bins[f]!, g, h, members.length, k, best);
      const brute = bruteForce(binned, n, bins, gh, members, k);
      t.true(Number.isFinite(brute.gain) && brute.gain > 0);
      t.true(Math.abs(best.gain - brute.gain) < 1e-9 * Math.max(1, brute.gain), `seed ${seed}: ${best.gain} vs ${brute.gain}`);
      // The chosen split, evaluated row by row, has that gain too.
      const left = members.filter((r) => {
        const b = binned[best.feature * n + r]!;
        return b === MISSING_BIN ? best.missingLeft : b <= best.bin;
      });
      t.is(left.length, best.cl);
    }
  }
});

test('missing values go to the side that gains more, and a node without missing values sends them to the larger child', (t) => {
  // Feature 0: the missing rows all have gradient -1 like the rows in bin 0; the rest have +1.
  const n = 60;
  const d = 1;
  const x = new Float64Array(n);
  const gh = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[i] = i < 10 ? Number.NaN : i < 30 ? 1 : 2;
    gh[2 * i] = i < 30 ? -1 : 1;
    gh[2 * i + 1] = 1;
  }
  const mapper = fitBinMapper(x, n, d);
  const bins = valueBins(mapper);
  const binned = binMatrix(mapper, x, n, d);
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const data = histogramData(binned, n, d, gh, rows, bins);
  const hist = new Float64Array(histogramLength(d));
  inlineBuilder(data).build(hist, Int32Array.of(0), 1, 0, n, true);
  const k = { l2: 0, minSamplesLeaf: 1, minHessianLeaf: 0, minGainToSplit: 0 };
  const best = emptySplit();
  scanFeature(hist, 0, bins[0]!, 0, n, n, k, best);
  t.is(best.bin, 0);
  t.true(best.missingLeft, 'the missing rows join bin 0, whose gradients they share');
  t.is(best.cl, 30);

  // Only rows 10.. (no missing value): missing values follow the larger child, here the right (40 rows vs 20 would be left).
  const present = Uint32Array.from({ length: 50 }, (_, i) => i + 10);
  const data2 = histogramData(binned, n, d, gh, present, bins);
  inlineBuilder(data2).build(hist, Int32Array.of(0), 1, 0, 50, false);
  const best2 = emptySplit();
  let g = 0;
  for (const r of present) g += gh[2 * r]!;
  scanFeature(hist, 0, bins[0]!, g, 50, 50, k, best2);
  t.is(best2.cl, 20);
  t.false(best2.missingLeft);
});

test('a sibling histogram by subtraction equals the one built from its rows', (t) => {
  const n = 500;
  const { x, d } = smallData(n, 9);
  const mapper = fitBinMapper(x, n, d);
  const bins = valueBins(mapper);
  const binned = binMatrix(mapper, x, n, d);
  const gh = gradients(n, 10);
  const features = Int32Array.from([0, 1, 2, 3]);
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const parent = new Float64Array(histogramLength(d));
  const builder = inlineBuilder(histogramData(binned, n, d, gh, rows, bins));
  builder.build(parent, features, d, 0, n, true);
  // Partition: rows with x0 < 0 first.
  const left = [...rows].filter((r) => x[r * d]! < 0);
  const right = [...rows].filter((r) => !(x[r * d]! < 0));
  rows.set([...left, ...right]);
  const small = new Float64Array(histogramLength(d));
  const large = new Float64Array(histogramLength(d));
  builder.build(small, features, d, 0, left.length, false);
  builder.build(large, features, d, left.length, n, false);
  subtractHistograms(parent, small, features, d, bins);
  for (let f = 0; f < d; f++) {
    const o = f * FEATURE_STRIDE;
    for (const b of [...Array.from({ length: bins[f]! }, (_, i) => i), MISSING_BIN]) {
      for (let s = 0; s < BIN_STRIDE; s++) t.true(Math.abs(parent[o + b * BIN_STRIDE + s]! - large[o + b * BIN_STRIDE + s]!) < 1e-9);
    }
  }
});

/** The histogram slots feature f writes: its value bins' and the missing bin's. */
function usedSlots(f: number, bins: Uint16Array): number[] {
  const o = f * FEATURE_STRIDE;
  return [...Array.from({ length: bins[f]! * BIN_STRIDE }, (_, i) => o + i), ...Array.from({ length: BIN_STRIDE }, (_, i) => o + MISSING_BIN * BIN_STRIDE + i)];
}

test('histograms built on a thread pool are bit for bit the ones built on one thread', async (t) => {
  const n = 20_000;
  const { x, d } = smallData(n, 21);
  const mapper = fitBinMapper(x, n, d);
  const bins = valueBins(mapper);
  const shared = sharedTrainingArrays(n, d);
  binMatrix(mapper, x, n, d, null, shared.binned);
  shared.gh.set(gradients(n, 22));
  let k = 0;
  for (let i = 0; i < n; i += 3) shared.rows[k++] = i;
  const data = histogramData(shared.binned, n, d, shared.gh, shared.rows, bins);
  const features = Int32Array.from([3, 0, 2, 1]);
  const pool = createHistogramPool(data, { threads: 3, minTaskCells: 0 });
  try {
    for (const [start, end, identity] of [
      [0, n, true],
      [0, k, false],
      [10, 500, false],
    ] as const) {
      const one = new Float64Array(histogramLength(d));
      const many = new Float64Array(histogramLength(d));
      inlineBuilder(data).build(one, features, d, start, end, identity);
      pool.build(many, features, d, start, end, identity);
      for (let f = 0; f < d; f++) {
        const used = usedSlots(f, bins);
        t.deepEqual(
          used.map((i) => many[i]),
          used.map((i) => one[i]),
          `feature ${f}, rows ${start}..${end}`,
        );
      }
    }
  } finally {
    await pool.close();
  }
});

test('the WebAssembly kernels build bit for bit the histograms of the JavaScript kernels, on one thread and on a pool', async (t) => {
  const n = 9_000;
  const { x, d } = smallData(n, 31);
  const mapper = fitBinMapper(x, n, d);
  const bins = valueBins(mapper);
  const memory = allocateTrainingMemory(n, d);
  if (!memory) return t.fail('a 9,000-row training memory must fit');
  binMatrix(mapper, x, n, d, null, memory.binned);
  memory.gh.set(gradients(n, 32));
  let k = 0;
  for (let i = 0; i < n; i += 2) memory.rows[k++] = i + (i % 3 === 0 ? 1 : 0);
  const plain = histogramData(memory.binned.slice(), n, d, memory.gh.slice(), memory.rows.slice(), bins);
  const wasm = histogramData(memory.binned, n, d, memory.gh, memory.rows, bins, bindKernels(memory.memory, memory.layout));
  const { kernels } = wasm.wasm!;
  const pool = createHistogramPool(wasm, { threads: 2, minTaskCells: 0 });
  try {
    // 1 to d features exercise the kernels of four, two and one features at a time.
    for (let count = 1; count <= d; count++) {
      const features = Int32Array.from({ length: count }, (_, i) => (i * 3 + count) % d);
      // Builders take the WebAssembly kernels from WASM_MIN_ROWS rows on; the kernels themselves are also run directly on the small ranges.
      for (const [start, end, identity] of [
        [0, n, true],
        [0, k, false],
        [17, 900, false],
        [17, 40, false],
        [5, 5, false],
      ] as const) {
        const expected = new Float64Array(histogramLength(d));
        inlineBuilder(plain).build(expected, features, count, start, end, identity);
        kernels.accumulate(features, 0, count, start, end, identity, bins);
        for (const f of features) {
          const used = usedSlots(f, bins);
          t.deepEqual(
            used.map((i) => kernels.out[i]),
            used.map((i) => expected[i]),
            `kernels: ${count} features, feature ${f}, rows ${start}..${end}`,
          );
        }
        for (const [name, builder] of [
          ['inline', inlineBuilder(wasm)],
          ['pool', pool],
        ] as const) {
          const got = new Float64Array(histogramLength(d)).fill(Number.NaN);
          builder.build(got, features, count, start, end, identity);
          for (const f of features) {
            const used = usedSlots(f, bins);
            t.deepEqual(
              used.map((i) => got[i]),
              used.map((i) => expected[i]),
              `${name}: ${count} features, feature ${f}, rows ${start}..${end}`,
            );
          }
        }
      }
    }
  } finally {
    await pool.close();
  }
});

test("a training memory is laid out in 64 KiB pages up to wasm32's 4 GiB, and larger trainings are refused (they keep plain arrays)", (t) => {
  const small = trainingLayout(100, 2);
  t.truthy(small);
  t.is(small!.pages, 1);
  t.is(small!.layout.gh % 16, 0, 'gradient pairs are 16-byte aligned for the SIMD loads');
  t.truthy(trainingLayout(10_000_000, 300), '3 GB of bins fit');
  t.is(trainingLayout(20_000_000, 300), null, '6 GB of bins do not');
});
