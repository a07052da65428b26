/**
 * The server follows the champion through `carepipe models promote` and `models rollback` under
 * load: a real worker and Temporal move the alias, a real `carepipe serve` process polls it every
 * 50 ms, and eight request loops (champion and pinned-version requests) run throughout. Not one
 * request fails, and each response is wholly one version: its version field is the old or the new
 * champion, and its probabilities are exactly that version's (measured before, by pinning).
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyRing } from '../../core/config.js';
import { type BackgroundCli, cliEnv, runCli, startCli } from '../helpers/cli.js';
import { testTemporalAddress } from '../helpers/services.js';
import { type ServingLake, MODEL, servingLake, setChampion } from '../helpers/serving-lake.js';

const PORT = 31103;
const b64 = (r: KeyRing) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;

let lakeEnv: ServingLake;
let env: NodeJS.ProcessEnv;
let worker: BackgroundCli;
let serve: BackgroundCli;
let url = '';

test.before(async () => {
  lakeEnv = await servingLake('serve-promote', [
    { key: 'a', family: 'logreg', hyperparameters: { l2: 1 } },
    { key: 'b', family: 'logreg', hyperparameters: { l2: 200 } },
  ]);
  await setChampion(lakeEnv.store, lakeEnv.versions.a!);
  env = cliEnv({
    CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
    CAREPIPE_LAKE: lakeEnv.lakeUri,
    CAREPIPE_TASK_QUEUE_PREFIX: `t-serve-${Date.now().toString(36)}`,
    CAREPIPE_CODEC_KEYS: b64(lakeEnv.deps.keys.codec),
    CAREPIPE_PSEUDONYM_KEYS: b64(lakeEnv.deps.keys.pseudonym),
  });
  worker = startCli(['worker'], env);
  serve = startCli(['serve', '--port', String(PORT), '--poll-ms', '50'], env);
  while (!worker.output().stderr.includes('"msg":"worker started"')) await sleep(100);
  while (!serve.output().stdout.includes('http://')) await sleep(100);
  url = serve.output().stdout.trim().split('\n')[0]!;
});

test.after.always(async () => {
  for (const p of [serve, worker]) {
    if (!p) continue;
    p.child.kill('SIGTERM');
    await p.exited;
  }
  lakeEnv?.cleanup();
});

const BODY = JSON.stringify({
  instances: [
    { features: { age: 71, los_days: 6, prior_inpatient_365d: 2, sex: 'F', payer: 'medicare', lab_sodium_last: 131 } },
    { features: { age: 45, los_days: 2, prior_inpatient_365d: 0, sex: 'M', payer: 'commercial' } },
  ],
  contributions: false,
});

interface Answer {
  version: string;
  predictions: { probability: number }[];
}

async function predict(path: string): Promise<{ status: number; answer: Answer | null }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  return { status: res.status, answer: res.status === 200 ? ((await res.json()) as Answer) : (await res.text(), null) };
}

async function championIs(version: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${url}/v1/models/${MODEL}`);
    if (((await res.json()) as { champion: string }).champion === version) return;
    await sleep(20);
  }
}

test('promote and rollback under load: no failed request, none mixed, pinned versions keep answering', async (t) => {
  const a = lakeEnv.versions.a!;
  const b = lakeEnv.versions.b!;
  const expected = new Map<string, number[]>();
  for (const v of [a, b]) {
    const pinned = await predict(`/v1/models/${MODEL}/versions/${v}:predict`);
    expected.set(
      v,
      pinned.answer!.predictions.map((p) => p.probability),
    );
  }
  t.notDeepEqual(expected.get(a), expected.get(b), 'the two versions answer differently, so a mixed answer would show');

  let running = true;
  const seen: { path: string; status: number; version: string | null; probabilities: number[] | null }[] = [];
  const loop = async (path: string) => {
    while (running) {
      try {
        const r = await predict(path);
        seen.push({ path, status: r.status, version: r.answer?.version ?? null, probabilities: r.answer?.predictions.map((p) => p.probability) ?? null });
      } catch (err) {
        seen.push({ path, status: -1, version: null, probabilities: null });
        t.log(`request failed: ${(err as Error).message}`);
      }
    }
  };
  const champion = `/v1/models/${MODEL}:predict`;
  const loops = [
    ...Array.from({ length: 6 }, () => loop(champion)),
    loop(`/v1/models/${MODEL}/versions/${b}:predict`),
    loop(`/v1/models/${MODEL}/versions/${a}:predict`),
  ];

  await sleep(300);
  const promoted = await runCli(['models', 'promote', MODEL, b, '--reason', 'serving test'], env);
  t.is(promoted.code, 0, promoted.stderr);
  await championIs(b);
  await sleep(300);
  const rolledBack = await runCli(['models', 'rollback', MODEL, '--reason', 'serving test'], env);
  t.is(rolledBack.code, 0, rolledBack.stderr);
  await championIs(a);
  await sleep(300);
  running = false;
  await Promise.all(loops);

  t.true(seen.length > 200, `${seen.length} requests`);
  t.deepEqual(
    seen.filter((s) => s.status !== 200),
    [],
    'no failed request',
  );
  const mixed = seen.filter((s) => !s.version || JSON.stringify(s.probabilities) !== JSON.stringify(expected.get(s.version)));
  t.deepEqual(mixed, [], 'every answer is wholly one version');
  const championVersions = seen.filter((s) => s.path === champion).map((s) => s.version);
  // Old, then new, then old again: the sequence of champion answers changes version exactly where the alias moved (allowing for loops in flight).
  const runs = championVersions.filter((v, i) => i === 0 || v !== championVersions[i - 1]);
  t.is(runs[0], a);
  t.true(runs.includes(b));
  t.is(runs[runs.length - 1], a);
  t.true(seen.filter((s) => s.path.includes('/versions/')).every((s) => s.version === (s.path.includes(b) ? b : a)));
  t.log(`${seen.length} requests, ${championVersions.length} to the champion, version runs: ${runs.length}`);
  const swaps = serve
    .output()
    .stderr.split('\n')
    .filter((l) => l.includes('champion loaded'));
  t.is(swaps.length, 3, 'loaded at start, after the promotion, after the rollback');
});
