/**
 * Long training must not starve the worker: CPU-bound loops pause (heartbeat, let the event loop
 * run, stop when cancelled), and awaits get heartbeats from a ticker. At 200,000 patients three
 * trainings on one worker timed out on heartbeats and their abandoned attempts kept computing;
 * these tests hold the mechanisms that fixed it, in a mock activity context.
 */
import test from 'ava';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatWhileRunning, pauseActivity } from '../../activities/context.js';
import { type TrainContext, trainFamily } from '../../activities/train/families.js';
import { logRegFit } from '../../activities/train/logreg.js';
import { trainGbdtModel } from '../../activities/train/trees/model.js';
import { Rng } from '../../activities/train/trees/rng.js';

function data(n: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const x = new Float64Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.next() * 2 - 1;
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * x[i * d]! - x[i * d + 1]!))) ? 1 : 0;
  }
  return { x, y };
}

test('pauseActivity heartbeats its details and throws the cancellation once the activity is cancelled', async (t) => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  await env.run(async () => {
    await pauseActivity({ step: 'fit', tree: 1 });
    env.cancel('TIMED_OUT');
    await t.throwsAsync(() => pauseActivity({ step: 'fit', tree: 2 }), { instanceOf: CancelledFailure });
  });
  t.deepEqual(beats[0], { step: 'fit', tree: 1 });
});

test('a gradient boosting fit cancelled after its first trees stops instead of growing the rest', async (t) => {
  const n = 3000;
  const d = 6;
  const { x, y } = data(n, d, 3);
  const env = new MockActivityEnvironment();
  const trees: number[] = [];
  env.on('heartbeat', (details: { tree?: number }) => {
    if (details.tree !== undefined) trees.push(details.tree);
    if (details.tree === 3) env.cancel('TIMED_OUT');
  });
  await t.throwsAsync(() => env.run(() => trainGbdtModel(x, y, n, d, { maxIter: 500, earlyStopping: 'off' })), { instanceOf: CancelledFailure });
  t.true(trees.length >= 3 && trees.length <= 4, `trees heartbeated: ${trees.join(', ')}`);
});

test('logistic regression pauses between Newton iterations', async (t) => {
  const n = 2000;
  const d = 5;
  const { x, y } = data(n, d, 4);
  const pauses: (string | number | undefined)[] = [];
  const ctx: TrainContext = {
    tfBackend: 'cpu',
    loadCheckpoint: async () => undefined,
    saveCheckpoint: async () => {},
    progress: () => {},
    pause: async (details) => {
      pauses.push(details.iteration);
    },
  };
  const model = await trainFamily('logreg', x, y, n, d, {}, ctx);
  const iterations = (JSON.parse(model.serialize()) as { iterations: number }).iterations;
  t.true(iterations >= 3);
  t.deepEqual(
    pauses,
    Array.from({ length: iterations - 1 }, (_, i) => i + 1),
    'a pause after every iteration but the last',
  );
});

test('heartbeatWhileRunning heartbeats the current details while the activity awaits, and stops when told', async (t) => {
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  await env.run(async () => {
    let stage = 'load';
    const stop = heartbeatWhileRunning(() => ({ step: stage }), 10);
    await new Promise((r) => setTimeout(r, 60));
    stage = 'write';
    await new Promise((r) => setTimeout(r, 60));
    stop();
    const count = beats.length;
    await new Promise((r) => setTimeout(r, 60));
    t.is(beats.length, count, 'no heartbeat after stop');
  });
  t.true(beats.some((b) => (b as { step: string }).step === 'load'));
  t.true(beats.some((b) => (b as { step: string }).step === 'write'));
});

test('a logistic regression fit in chunks of a few rows is the one-pass fit bit for bit', (t) => {
  const n = 700;
  const d = 4;
  const { x, y } = data(n, d, 5);
  const whole = logRegFit(x, y, n, d);
  let wholeSteps = 0;
  while (!whole.step()) wholeSteps++;
  const chunked = logRegFit(x, y, n, d, {}, 100); // 100 multiply-adds: a few rows a step
  let chunkedSteps = 0;
  while (!chunked.step()) chunkedSteps++;
  t.deepEqual(chunked.model(), whole.model());
  t.true(chunkedSteps > 50 * wholeSteps, `${chunkedSteps} steps vs ${wholeSteps}`);
});

test('heartbeatWhileRunning stops beating once its details stop changing, so a hung attempt times out', async (t) => {
  const env = new MockActivityEnvironment();
  let beats = 0;
  env.on('heartbeat', () => beats++);
  await env.run(async () => {
    const stage = { step: 'load' };
    const stop = heartbeatWhileRunning(() => stage, 5, 150);
    await new Promise((r) => setTimeout(r, 400));
    const atStale = beats;
    await new Promise((r) => setTimeout(r, 300));
    stop();
    t.true(atStale >= 1, `${atStale} beats while fresh`);
    t.is(beats, atStale, 'no beat once stale');
  });
});

test('tree families pause through the training context after every tree, so its heartbeat details are the latest', async (t) => {
  const n = 1500;
  const d = 4;
  const { x, y } = data(n, d, 6);
  for (const family of ['gbdt', 'rf'] as const) {
    const trees: (string | number | undefined)[] = [];
    const ctx: TrainContext = {
      tfBackend: 'cpu',
      loadCheckpoint: async () => undefined,
      saveCheckpoint: async () => {},
      progress: () => {},
      pause: async (details) => {
        trees.push(details.tree);
      },
    };
    await trainFamily(family, x, y, n, d, family === 'gbdt' ? { maxIter: 5 } : { nEstimators: 5 }, ctx);
    t.deepEqual(trees, [1, 2, 3, 4, 5], family);
  }
});
