/**
 * serving/tree-shap.ts against the `shap` package: a gradient-boosted model and a random forest
 * trained by our trainers and passed through the stored format (model.json + model.bin, where the
 * covers live) are exported in shap's dict form (tests/unit/tree_shap_reference.py) and
 * TreeExplainer(feature_perturbation="tree_path_dependent") explains the same 300 rows. Some rows
 * sit exactly on a split threshold and some are missing, so the split rule (x <= threshold goes
 * left, NaN to the recorded side) is exercised both ways. Everything agrees to 1e-6.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Forest } from '../../activities/train/trees/forest.js';
import { decodeForest, encodeForest } from '../../activities/train/trees/format.js';
import { fitGbdt } from '../../activities/train/trees/gbdt.js';
import { parseGbdtParams, parseRfParams } from '../../activities/train/trees/params.js';
import { fitRandomForest } from '../../activities/train/trees/rf.js';
import { Rng } from '../../activities/train/trees/rng.js';
import { REPO_ROOT } from '../../core/config.js';
import { treeShapContributions } from '../../serving/tree-shap.js';
import { noisyRuleData } from '../helpers/tree-data.js';

const D = 6;
const N = 300;
const dir = mkdtempSync(join(tmpdir(), 'tree-shap-ref-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** The stored form and back: what serving loads. */
const stored = (f: Forest) => {
  const { header, blob } = encodeForest(f);
  return decodeForest(JSON.parse(JSON.stringify(header)), blob);
};

/** Rows to explain: fresh ones, a third with a feature set exactly to a threshold the model splits it at. */
function rowsFor(f: Forest): Float64Array {
  const x = noisyRuleData(N, D, 77).x;
  const rng = new Rng(78);
  const splits = [...f.left.keys()].filter((i) => f.left[i]! >= 0 && Number.isFinite(f.threshold[i]!));
  for (let i = 0; i < N; i += 3) {
    const node = splits[rng.int(splits.length)]!;
    x[i * D + f.feature[node]!] = f.threshold[node]!;
  }
  return x;
}

function shapReference(f: Forest, x: Float64Array): { expected: number; contributions: number[][] } {
  const scale = f.kind === 'rf' ? 1 / (f.treeStart.length - 1) : 1;
  const trees = [];
  for (let t = 0; t + 1 < f.treeStart.length; t++) {
    const nodes = [...Array(f.treeStart[t + 1]! - f.treeStart[t]!).keys()].map((i) => f.treeStart[t]! + i);
    const left = (a: number) => f.left[a]!;
    trees.push({
      children_left: nodes.map((a) => left(a)),
      children_right: nodes.map((a) => (left(a) < 0 ? -1 : left(a) + 1)),
      children_default: nodes.map((a) => (left(a) < 0 ? -1 : f.missingLeft[a] === 1 ? left(a) : left(a) + 1)),
      features: nodes.map((a) => (left(a) < 0 ? -2 : f.feature[a]!)),
      // A split of missing against present values has threshold +Infinity, which JSON cannot hold: a string.
      thresholds: nodes.map((a) => (left(a) < 0 ? 0 : Number.isFinite(f.threshold[a]!) ? f.threshold[a]! : String(f.threshold[a]))),
      values: nodes.map((a) => f.value[a]! * scale),
      node_sample_weight: nodes.map((a) => f.cover[a]!),
    });
  }
  const rows = [...Array(N).keys()].map((i) => [...x.subarray(i * D, (i + 1) * D)].map((v) => (Number.isNaN(v) ? null : v)));
  const file = join(dir, `${f.kind}.json`);
  writeFileSync(file, JSON.stringify({ trees, base_offset: f.kind === 'gbdt' ? f.baseScore : 0, rows }));
  const out = execFileSync('python3', [join(REPO_ROOT, 'tests', 'unit', 'tree_shap_reference.py'), file], { maxBuffer: 1 << 26 }).toString();
  const parsed = JSON.parse(out) as { expected_value: number; contributions: number[][] };
  return { expected: parsed.expected_value, contributions: parsed.contributions };
}

function compare(t: { true(v: boolean, m?: string): void; is(a: unknown, b: unknown): void }, f: Forest): void {
  const x = rowsFor(f);
  const reference = shapReference(f, x);
  t.is(reference.contributions.length, N);
  let worst = 0;
  for (let i = 0; i < N; i++) {
    const { base, contributions } = treeShapContributions(f, x.subarray(i * D, (i + 1) * D));
    worst = Math.max(worst, Math.abs(base - reference.expected));
    for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs(contributions[j]! - reference.contributions[i]![j]!));
  }
  t.true(worst < 1e-6, `${f.kind}: largest difference from shap ${worst}`);
}

test('gradient boosting: base and contributions equal shap TreeExplainer (path-dependent) to 1e-6', async (t) => {
  const train = noisyRuleData(4000, D, 31);
  const { forest } = await fitGbdt(train.x, train.y, 4000, D, parseGbdtParams({ maxIter: 60, seed: 7 }));
  compare(t, stored(forest));
});

test('random forest: base and contributions equal shap TreeExplainer (path-dependent) to 1e-6', async (t) => {
  const train = noisyRuleData(4000, D, 32);
  const forest = await fitRandomForest(train.x, train.y, 4000, D, parseRfParams({ nEstimators: 15, maxDepth: 12, seed: 8 }));
  compare(t, stored(forest));
});
