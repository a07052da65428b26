/**
 * Batch scoring from the command line on real services (worker process, Temporal, versitygw): a
 * generated lake is retrained (gbdt, so trees and their stored pipeline are used), `carepipe
 * score` scores every stay with the champion, and the scores equal the registry's held-out
 * predictions.parquet for the same stays to 1e-9; a rerun writes nothing; a schedule created with
 * `--workflow score` starts the same workflow when triggered.
 */
import test from 'ava';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../../activities/io/parquet.js';
import { parseConfig } from '../../core/config.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import type { ScoreResult } from '../../schemas/score.js';
import { type BackgroundCli, cliEnv, runCli, startCli } from '../helpers/cli.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { testS3Settings, testTemporalAddress, uniqueBucket } from '../helpers/services.js';
import { setTimeout as sleep } from 'node:timers/promises';

const b64 = (r: ReturnType<typeof testKeyRing>) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;
const vars = {
  CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
  CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
  // versitygw accepts SSE but does not confirm it: the local stack's development exception.
  CAREPIPE_LOCAL_DEVELOPMENT: 'true',
  CAREPIPE_LAKE: `s3://${uniqueBucket('score-cli')}`,
  CAREPIPE_TASK_QUEUE_PREFIX: `t-score-${Date.now().toString(36)}`,
  CAREPIPE_CODEC_KEYS: b64(testKeyRing('score-codec')),
  CAREPIPE_PSEUDONYM_KEYS: b64(testKeyRing('score-pseudo')),
};
const env = cliEnv(vars);
const MODEL = 'score-model';
const SCHEDULE = `score-daily-${Date.now().toString(36)}`;
let worker: BackgroundCli;
let store: ObjectStore;
let champion = '';

async function json<T>(args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], env);
  if (r.code !== 0) throw new Error(`carepipe ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Every object under scores/: key, size and version tag (a rewrite changes the tag). */
async function scoreObjects(): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('scores/')) out.push(`${o.key} ${o.size} ${o.etag} ${o.lastModified.toISOString()}`);
  return out.sort();
}

test.before(async () => {
  const config = parseConfig(vars);
  await ensureBucket(config.lake, config.s3);
  store = openStore(config.lake, config.s3);
  await writeRawLake(store, { patients: 1200, days: 31, seed: 17, messiness: 'none' });
  worker = startCli(['worker'], env);
  while (!worker.output().stderr.includes('"msg":"worker started"')) await sleep(100);
  const retrained = await json<{ promoted: string | null }>(['retrain', '--model', MODEL, '--ingest', '--buckets', '4', '--families', 'gbdt']);
  champion = retrained.promoted!;
});

test.after.always(async () => {
  await runCli(['schedule', 'delete', SCHEDULE], env);
  worker.child.kill('SIGTERM');
  await worker.exited;
  store.close();
});

test.serial('score writes one file per bucket whose probabilities equal the registry predictions to 1e-9, and a rerun writes nothing', async (t) => {
  t.truthy(champion, 'the first retrain promotes its candidate');
  const first = await json<ScoreResult & { workflowId: string }>(['score', '--model', MODEL]);
  t.true(first.workflowId.startsWith(`score/${MODEL}/`));
  t.is(first.version, champion);
  t.is(first.buckets, 4);
  t.is(first.bucketsWritten, 4);
  t.true(first.manifestWritten);

  const scores = new Map<string, { p: number; flagged: number; patient: string | null; key: string | null }>();
  for (let bucket = 0; bucket < 4; bucket++) {
    const key = lake.scoreShard(MODEL, champion, first.datasetVersion, bucket);
    const table = readParquet(await store.get(key), { source: key });
    const n = table.numRows;
    const [enc, pat, sk] = ['encounter_id', 'patient_key', 'score_key'].map((c) => stringValues(table.getChild(c), n));
    const p = intOrFloatToFloat64(table.getChild('probability')!, 'probability');
    const flagged = intOrFloatToFloat64(table.getChild('flagged')!, 'flagged');
    for (let i = 0; i < n; i++) scores.set(enc![i]!, { p: p[i]!, flagged: flagged[i]!, patient: pat![i]!, key: sk![i]! });
  }
  t.is(scores.size, first.rows, 'one row per stay, stay ids unique');
  t.is(new Set([...scores.values()].map((s) => s.key)).size, first.rows, 'score keys unique');
  t.is([...scores.values()].filter((s) => s.flagged === 1).length, first.flagged);
  t.true(
    [...scores.values()].every((s) => s.flagged === (s.p >= first.threshold ? 1 : 0)),
    'flagged exactly at the threshold',
  );
  t.true(first.flagged > 0 && first.flagged < first.rows, `${first.flagged} of ${first.rows} flagged`);

  const predKey = lake.registryFile(MODEL, champion, 'predictions.parquet');
  const pred = readParquet(await store.get(predKey), { source: predKey });
  const enc = stringValues(pred.getChild('encounter_id'), pred.numRows);
  const pat = stringValues(pred.getChild('patient_key'), pred.numRows);
  const score = intOrFloatToFloat64(pred.getChild('score')!, 'score');
  t.true(pred.numRows > 50);
  let worst = 0;
  for (let i = 0; i < pred.numRows; i++) {
    const s = scores.get(enc[i]!);
    if (!s) return t.fail(`stay ${i} of predictions.parquet has no score`);
    t.is(s.patient, pat[i] ?? null);
    worst = Math.max(worst, Math.abs(s.p - score[i]!));
  }
  t.true(worst <= 1e-9, `largest difference ${worst}`);

  const before = await scoreObjects();
  t.is(before.length, 4 * 2 + 1, 'four files, four sidecars, one manifest');
  const again = await json<ScoreResult>(['score', '--model', MODEL]);
  t.is(again.bucketsWritten, 0);
  t.false(again.manifestWritten);
  const same = (r: ScoreResult) => [r.version, r.datasetVersion, r.rows, r.flagged, r.threshold, r.manifestKey];
  t.deepEqual(same(again), same(first));
  t.deepEqual(await scoreObjects(), before, 'no object written again');
});

test.serial('a schedule created with --workflow score starts scoreWorkflow when triggered', async (t) => {
  const created = await json<{ action: { workflowType: string; input: { model: string } } }>([
    'schedule',
    'create',
    SCHEDULE,
    '--workflow',
    'score',
    '--model',
    MODEL,
    '--every',
    '1d',
    '--paused',
  ]);
  t.is(created.action.workflowType, 'scoreWorkflow');
  t.is(created.action.input.model, MODEL);
  const described = await runCli(['schedule', 'describe', SCHEDULE], env);
  t.regex(described.stdout, new RegExp(`scores\\s+${MODEL}`));
  const run = await json<ScoreResult & { workflowId: string; scheduleId: string }>(['schedule', 'trigger', SCHEDULE]);
  t.true(run.workflowId.startsWith(`score/${MODEL}/${SCHEDULE}`), run.workflowId);
  t.is(run.version, champion);
  t.is(run.buckets, 4);
  t.is(run.bucketsWritten, 0, 'the scheduled run finds the scores already written');
});
