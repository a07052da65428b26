import test from 'ava';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, runCli } from '../helpers/cli.js';

const keysEnv = {
  CAREPIPE_CODEC_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  CAREPIPE_PSEUDONYM_KEYS: `k1:${Buffer.alloc(32, 2).toString('base64')}`,
};

test('carepipe --help lists every command and exits 0', async (t) => {
  const r = await runCli(['--help'], cliEnv({}));
  t.is(r.code, 0);
  for (const command of ['stack', 'worker', 'codec-server', 'generate', 'retrain', 'schedule', 'backfill', 'demo'])
    t.regex(r.stdout, new RegExp(`^  ${command}\\b`, 'm'));
});

test('every command has its own --help', async (t) => {
  for (const command of [['stack', 'up'], ['worker'], ['codec-server'], ['generate'], ['retrain'], ['schedule', 'create'], ['backfill'], ['demo']]) {
    const r = await runCli([...command, '--help'], cliEnv({}));
    t.is(r.code, 0, command.join(' '));
    t.regex(r.stdout, /^Usage: carepipe /m);
  }
});

test('an unknown model family is a usage error (exit 2) with a one-line message', async (t) => {
  const r = await runCli(['retrain', '--families', 'logreg,xgboost'], cliEnv(keysEnv));
  t.is(r.code, 2);
  t.is(r.stderr, 'carepipe: --families: unknown family "xgboost"; known: logreg, mlp, rf, gbdt\n');
});

test('a bad environment variable stops the command at start, naming the variable (exit 2)', async (t) => {
  const r = await runCli(['retrain'], cliEnv({ ...keysEnv, CAREPIPE_LAKE: 'hdfs://lake' }));
  t.is(r.code, 2);
  t.is(r.stderr, 'carepipe: CAREPIPE_LAKE must start with s3:// or file://, got "hdfs://lake".\n');
});

test('an unknown queue name for the worker is a usage error (exit 2)', async (t) => {
  const r = await runCli(['worker', '--queues', 'data,gpu'], cliEnv(keysEnv));
  t.is(r.code, 2);
  t.regex(r.stderr, /^carepipe: --queues: unknown queue "gpu"; known: orchestration, data, features, train-cpu, train-gpu, all\n$/);
});

test('a GPU worker whose configured backend cannot load stops at start with exit 2, naming the variable, before keys or Temporal', async (t) => {
  // No keys and an address nothing answers on: exit 2 (not 3) shows the check comes first.
  // tfjs-node-gpu is not a dependency and is not installable here (its install downloads libtensorflow).
  const r = await runCli(
    ['worker', '--queues', 'train-gpu'],
    cliEnv({ CAREPIPE_TF_BACKEND: 'tfjs-node-gpu', CAREPIPE_TEMPORAL_ADDRESS: '127.0.0.1:1', CAREPIPE_KEY_FILE: '/nonexistent/keys.json' }),
  );
  t.is(r.code, 2, r.stderr);
  t.regex(
    r.stderr,
    /^carepipe: CAREPIPE_TF_BACKEND=tfjs-node-gpu, but that TensorFlow\.js backend cannot load in this worker \(TensorFlow\.js backend tfjs-node-gpu: not installed\); it needs `npm install --no-save @tensorflow\/tfjs-node-gpu@4\.22\.0` on a node with CUDA 11\.8 and cuDNN 8 \(README, "GPU nodes"\); set CAREPIPE_TF_BACKEND=auto to train on the best backend found instead\.\n$/,
  );
});

test('a worker that serves no training queue does not load TensorFlow.js, whatever backend is configured', async (t) => {
  // The data queue with the GPU backend configured gets past the check and stops at the keys (exit 2, another sentence).
  const r = await runCli(
    ['worker', '--queues', 'data'],
    cliEnv({ CAREPIPE_TF_BACKEND: 'tfjs-node-gpu', CAREPIPE_TEMPORAL_ADDRESS: '127.0.0.1:1', CAREPIPE_KEY_FILE: '/nonexistent/keys.json' }),
  );
  t.is(r.code, 2, r.stderr);
  t.notRegex(r.stderr, /CAREPIPE_TF_BACKEND/);
});

test('an unreachable Temporal server is exit 3 with a message that names the address', async (t) => {
  const r = await runCli(['retrain', '--lake', 'file:///tmp/none'], cliEnv({ ...keysEnv, CAREPIPE_TEMPORAL_ADDRESS: '127.0.0.1:1' }));
  t.is(r.code, 3);
  t.regex(r.stderr, /^carepipe: cannot reach Temporal at 127\.0\.0\.1:1 \(CAREPIPE_TEMPORAL_ADDRESS\)/);
});

test('--from without --ingest is refused before anything starts', async (t) => {
  const r = await runCli(['retrain', '--from', '2025-01-01'], cliEnv(keysEnv));
  t.is(r.code, 2);
  t.is(r.stderr, 'carepipe: --from and --to select dates to ingest: add --ingest\n');
});

test("generate writes the contract's tables into a file:// lake and reports the Bayes-optimal AUC as JSON", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-cli-gen-'));
  const r = await runCli(['generate', '--lake', `file://${dir}`, '--patients', '300', '--days', '2', '--seed', '5', '--json'], cliEnv({}));
  t.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { lake: string; indexStays: number; bayesAuc: number; rows: Record<string, number> };
  t.is(summary.lake, `file://${dir}`);
  t.true(summary.indexStays > 0);
  t.true(summary.bayesAuc > 0.5 && summary.bayesAuc < 1);
  for (const table of ['patients', 'encounters', 'diagnoses', 'lab_results']) {
    t.true(summary.rows[table]! > 0, table);
    const dates = readdirSync(join(dir, 'raw', table));
    t.true(
      dates.every((d) => /^ingest_date=\d{4}-\d{2}-\d{2}$/.test(d)),
      dates.join(','),
    );
  }
  t.true(existsSync(join(dir, 'ground-truth', 'generation.json')));
});

test('generate refuses an impossible option with a message naming it (exit 2)', async (t) => {
  const r = await runCli(['generate', '--lake', 'file:///tmp/x', '--patients', '0'], cliEnv({}));
  t.is(r.code, 2);
  t.regex(r.stderr, /^carepipe: .*patients/);
});
