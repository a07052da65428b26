/**
 * Tree learner benchmark (issue 6): carepipe's gradient boosting and random forest against
 * scikit-learn (HistGradientBoostingClassifier, RandomForestClassifier) and LightGBM, on the same
 * rows and split, in the same run. Each learner trains in a process of its own, so its peak
 * resident memory (VmHWM, which unlike getrusage's maxrss does not inherit the parent's) is its own; carepipe's run single-threaded and with the histogram pool (2
 * threads), the references single-threaded. Test ROC AUC is computed here for every learner by
 * the same code (activities/evaluate). Timings are wall seconds on a shared machine; CPU seconds
 * are printed beside them.
 *
 * Data sets: a synthetic 100,000 x 30 set (80/20 split; continuous, count, flag and
 * low-cardinality columns, informative missing values, thresholds and interactions in the true
 * log-odds), and the readmission feature set of a generated lake (patients split 80/20 by
 * pseudonym, the fitted preprocessing pipeline's matrix, as the train activity sees it).
 *
 *   node dist/bench/trees.js [--quick] [--rows N] [--patients N] [--threads 1,2] [--learners a,b]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildLakeFeatures } from '../activities/features/local-build.js';
import { fitPipeline } from '../activities/features/fit-stats.js';
import { transform } from '../activities/features/pipeline.js';
import { writeIngestManifests } from '../activities/ingest/day-manifests.js';
import { ingestFile } from '../activities/ingest/ingest-file.js';
import { listRawFiles } from '../activities/ingest/list-raw.js';
import { rocAuc } from '../activities/evaluate/metrics-ranking.js';
import { loadFeatureSet, splitByPatient } from '../activities/train/feature-set.js';
import { predictProba } from '../activities/train/trees/forest.js';
import { fitGbdt } from '../activities/train/trees/gbdt.js';
import { parseGbdtParams, parseRfParams } from '../activities/train/trees/params.js';
import { fitRandomForest } from '../activities/train/trees/rf.js';
import { Rng } from '../activities/train/trees/rng.js';
import { createDeps } from '../cli/deps.js';
import { type Keys, REPO_ROOT, parseConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { writeRawLake } from '../data-lake/generator/index.js';
import { peakRssMiB, printTable } from './harness.js';

export interface TreesBenchOptions {
  /** Rows of the synthetic set (0: skip it). */
  rows: number;
  /** Patients of the generated lake (0: skip the feature set). */
  patients: number;
  /** Thread counts carepipe's learners run with. */
  threads: number[];
  learners: string[];
}

export const TREES_DEFAULTS: TreesBenchOptions = {
  rows: 100_000,
  patients: 200_000,
  threads: [1, 2],
  learners: ['gbdt', 'rf', 'sklearn-hgb', 'sklearn-rf', 'lightgbm'],
};
export const TREES_QUICK: TreesBenchOptions = { ...TREES_DEFAULTS, rows: 20_000, patients: 3000 };

interface DataSet {
  name: string;
  d: number;
  xTrain: Float64Array;
  yTrain: Uint8Array;
  xTest: Float64Array;
  yTest: Uint8Array;
  /** The test AUC of the true probabilities, when known. */
  bayesAuc?: number;
}

interface Run {
  trainSeconds: number;
  trainCpuSeconds: number;
  predictSeconds: number;
  peakRssMiB: number;
  trees: number;
}

/** The synthetic set: 30 columns of kinds a clinical table has, a nonlinear truth, 80/20 split. */
export function syntheticSet(rows: number, seed = 1): DataSet {
  const d = 30;
  const rng = new Rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const x = new Float64Array(rows * d);
  const y = new Uint8Array(rows);
  const truth = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = x.subarray(i * d, (i + 1) * d);
    for (let j = 0; j < 10; j++) r[j] = j % 3 === 2 ? Math.exp(0.5 * normal()) : normal(); // continuous, some skewed
    for (let j = 10; j < 15; j++) r[j] = Math.floor(-Math.log(1 - rng.next()) * (1 + j - 10)); // counts
    for (let j = 15; j < 20; j++) r[j] = rng.next() < 0.1 + 0.05 * (j - 15) ? 1 : 0; // flags
    for (let j = 20; j < 25; j++) r[j] = rng.int(5); // low-cardinality codes
    for (let j = 25; j < 30; j++) r[j] = rng.next() * 100; // noise
    // Missing values: 15% of column 1 (informative: missing means sicker), 10% of 4 and 7 (at random).
    const sick = rng.next() < 0.15;
    if (sick) r[1] = Number.NaN;
    if (rng.next() < 0.1) r[4] = Number.NaN;
    if (rng.next() < 0.1) r[7] = Number.NaN;
    const v = (j: number) => (Number.isNaN(r[j]!) ? 0 : r[j]!);
    const z =
      -1.6 +
      0.7 * v(0) +
      (sick ? 0.8 : 0.4 * v(1)) +
      0.5 * Math.log(v(2)) +
      (v(3) > 0.5 ? 0.6 : -0.2) -
      0.4 * v(4) * v(5) +
      0.5 * Math.sin(2 * v(6)) +
      0.25 * Math.min(v(10), 4) +
      0.15 * v(11) +
      0.7 * v(15) -
      0.5 * v(16) +
      0.6 * v(17) * v(18) +
      [0, 0.3, -0.2, 0.5, -0.4][v(20)]! +
      0.2 * v(21) +
      0.4 * (v(8) > 1 && v(9) < 0 ? 1 : 0);
    truth[i] = 1 / (1 + Math.exp(-z));
    y[i] = rng.next() < truth[i]! ? 1 : 0;
  }
  const nTrain = Math.round(rows * 0.8);
  return {
    name: `synthetic ${rows.toLocaleString('en-US')} x ${d}`,
    d,
    xTrain: x.slice(0, nTrain * d),
    yTrain: y.slice(0, nTrain),
    xTest: x.slice(nTrain * d),
    yTest: y.slice(nTrain),
    bayesAuc: rocAuc(truth.slice(nTrain), y.slice(nTrain)),
  };
}

/** A generated lake ingested and featurised in-process (file://), split by patient, through the fitted pipeline. */
async function featureSet(patients: number): Promise<DataSet> {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-bench-trees-'));
  const lakeUri = `file://${dir}`;
  try {
    const config = parseConfig({ CAREPIPE_LAKE: lakeUri });
    const key = Buffer.alloc(32, 5);
    const keys: Keys = {
      codec: { activeId: 'bench', keys: new Map([['bench', key]]), source: 'bench' },
      pseudonym: { activeId: 'bench', keys: new Map([['bench', Buffer.alloc(32, 6)]]), source: 'bench' },
    };
    const deps = createDeps(config, keys, createLogger('warn', { bench: 'trees' }));
    const store = deps.lake(lakeUri);
    const started = performance.now();
    process.stderr.write(`[bench trees] generating ${patients} patients\n`);
    await writeRawLake(store, { patients, days: 33, seed: 6 });
    let startAfter = '';
    for (;;) {
      const page = await listRawFiles(deps, { lake: lakeUri, startAfter, limit: 500 });
      for (let i = 0; i < page.keys.length; i += 2)
        await Promise.all(page.keys.slice(i, i + 2).map((k) => ingestFile(deps, { lake: lakeUri, key: k, bucketCount: 32 })));
      if (page.nextStartAfter === undefined) break;
      startAfter = page.nextStartAfter;
    }
    await writeIngestManifests(deps, { lake: lakeUri });
    const build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: 32 });
    const data = await loadFeatureSet(store, 'readmission', build.version);
    const split = splitByPatient(data.patientKeys, 0.2, 1);
    const pipeline = fitPipeline(data.columns, split.train);
    process.stderr.write(
      `[bench trees] feature set ready: ${data.rows} stays, ${pipeline.width} columns (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );
    deps.close();
    return {
      name: `features, ${patients.toLocaleString('en-US')} patients`,
      d: pipeline.width,
      xTrain: transform(pipeline, data.columns, split.train),
      yTrain: Uint8Array.from(split.train, (r) => data.labels[r]!),
      xTest: transform(pipeline, data.columns, split.test),
      yTest: Uint8Array.from(split.test, (r) => data.labels[r]!),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeSet(dir: string, s: DataSet): void {
  writeFileSync(join(dir, 'x_train.f64'), s.xTrain);
  writeFileSync(join(dir, 'y_train.u8'), s.yTrain);
  writeFileSync(join(dir, 'x_test.f64'), s.xTest);
  writeFileSync(join(dir, 'y_test.u8'), s.yTest);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ d: s.d }));
}

const readF64 = (path: string) => {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** One learner in a child process: carepipe's through this file's child mode, the references through Python. */
function runLearner(dir: string, learner: string, threads: number): Run {
  const r =
    learner === 'gbdt' || learner === 'rf'
      ? spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, learner, String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24 })
      : spawnSync('python3', [join(REPO_ROOT, 'bench', 'trees_reference.py'), dir, learner], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench trees: ${learner} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
}

/** Child mode: train one of carepipe's learners on the set in `dir`, write the test predictions. */
async function child(dir: string, learner: string, threads: number): Promise<void> {
  const d = (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { d: number }).d;
  const xTrain = readF64(join(dir, 'x_train.f64'));
  const yTrain = new Uint8Array(readFileSync(join(dir, 'y_train.u8')));
  const xTest = readF64(join(dir, 'x_test.f64'));
  const n = yTrain.length;
  const m = xTest.length / d;
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const forest =
    learner === 'gbdt'
      ? (await fitGbdt(xTrain, yTrain, n, d, parseGbdtParams({}), { threads })).forest
      : await fitRandomForest(xTrain, yTrain, n, d, parseRfParams({}), undefined, { threads });
  const trainSeconds = (performance.now() - wall) / 1000;
  const used = process.cpuUsage(cpu);
  let best = Infinity;
  let scores: Float64Array = new Float64Array(0);
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    scores = predictProba(forest, xTest, m, d);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  writeFileSync(join(dir, `pred-${learner}-${threads}.f64`), scores);
  const run: Run = {
    trainSeconds,
    trainCpuSeconds: (used.user + used.system) / 1e6,
    predictSeconds: best,
    peakRssMiB: peakRssMiB(process.pid),
    trees: forest.treeStart.length - 1,
  };
  process.stdout.write(JSON.stringify(run) + '\n');
}

export async function benchTrees(options: TreesBenchOptions): Promise<void> {
  const sets: (() => Promise<DataSet>)[] = [];
  if (options.rows > 0) sets.push(async () => syntheticSet(options.rows));
  if (options.patients > 0) sets.push(() => featureSet(options.patients));
  for (const make of sets) {
    const set = await make();
    const dir = mkdtempSync(join(tmpdir(), 'carepipe-bench-trees-set-'));
    try {
      writeSet(dir, set);
      const rows: (string | number)[][] = [];
      const results = new Map<string, { run: Run; auc: number }>();
      for (const learner of options.learners) {
        for (const threads of learner === 'gbdt' || learner === 'rf' ? options.threads : [1]) {
          process.stderr.write(`[bench trees] ${set.name}: ${learner}, ${threads} thread(s)\n`);
          const run = runLearner(dir, learner, threads);
          const scores = readF64(join(dir, learner === 'gbdt' || learner === 'rf' ? `pred-${learner}-${threads}.f64` : `pred-${learner}.f64`));
          results.set(`${learner}/${threads}`, { run, auc: rocAuc(scores, set.yTest) });
        }
      }
      const referenceOf = (learner: string) => results.get(learner === 'rf' || learner === 'sklearn-rf' ? 'sklearn-rf/1' : 'sklearn-hgb/1');
      for (const [key, { run, auc }] of results) {
        const [learner, threads] = key.split('/') as [string, string];
        const ref = referenceOf(learner);
        rows.push([
          learner,
          threads,
          run.trees,
          run.trainSeconds,
          run.trainCpuSeconds,
          set.yTest.length / run.predictSeconds,
          run.peakRssMiB,
          auc,
          ref ? `${(run.trainSeconds / ref.run.trainSeconds).toFixed(2)}x` : '',
          ref ? (auc - ref.auc).toFixed(4) : '',
        ]);
      }
      const bayes = set.bayesAuc === undefined ? '' : `; Bayes-optimal test ROC AUC ${set.bayesAuc.toFixed(4)}`;
      printTable(
        `trees: ${set.name}, ${set.yTrain.length.toLocaleString('en-US')} training / ${set.yTest.length.toLocaleString('en-US')} test rows, ${set.d} columns${bayes}` +
          '\n(ratios against scikit-learn single-threaded: HistGradientBoosting for gbdt and lightgbm, RandomForest for rf)',
        ['learner', 'threads', 'trees', 'train s', 'train CPU s', 'predict rows/s', 'peak RSS MiB', 'test ROC AUC', 'train / sklearn', 'AUC - sklearn'],
        rows,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Command-line flags of the trees benchmark (shared with bench/main.ts). */
export function treesOptions(args: string[]): TreesBenchOptions {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const base = args.includes('--quick') ? TREES_QUICK : TREES_DEFAULTS;
  const list = (v: string | undefined) => v?.split(',').filter(Boolean);
  return {
    rows: Number(flag('--rows') ?? base.rows),
    patients: Number(flag('--patients') ?? base.patients),
    threads: list(flag('--threads'))?.map(Number) ?? base.threads,
    learners: list(flag('--learners')) ?? base.learners,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') await child(args[1]!, args[2]!, Number(args[3]));
  else await benchTrees(treesOptions(args));
}
