/**
 * The demo's serving step, without the rest of the demo: `carepipe serve` started in the background
 * the way the demo starts it (pid and log under the stack's state folder), the printed curl run as
 * a user would paste it into a shell, and `stack down` (stackDown on the same state folder) stopping
 * the server so nothing is left running.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRunning } from '../../infra/processes.js';
import { predictCurl, upServe } from '../../infra/serve-process.js';
import { stackDown } from '../../infra/stack.js';
import { MODEL, type ServingLake, servingLake, setChampion } from '../helpers/serving-lake.js';

const run = promisify(execFile);
const PORT = 31105;
let env: ServingLake;
let stateDir: string;

test.before(async () => {
  env = await servingLake('serve-demo', [{ key: 'logreg', family: 'logreg' }], { patients: 250 });
  await setChampion(env.store, env.versions.logreg!);
  stateDir = mkdtempSync(join(tmpdir(), 'carepipe-serve-demo-'));
});

test.after.always(async () => {
  if (stateDir) await stackDown({ stateDir });
  env?.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test('the printed curl gets a prediction from the served champion, and stack down stops the server', async (t) => {
  const served = await upServe({ stateDir, host: '127.0.0.1', port: PORT, lake: env.lakeUri, models: [MODEL] });
  t.true(served.startedNow);
  t.true(isRunning(served.pid!));
  const again = await upServe({ stateDir, host: '127.0.0.1', port: PORT, lake: env.lakeUri, models: [MODEL] });
  t.deepEqual([again.startedNow, again.pid], [false, served.pid], 'a ready server is reused, not started twice');

  const { command } = predictCurl(served.url, MODEL);
  const { stdout } = await run('bash', ['-c', command]);
  const answer = JSON.parse(stdout) as { model: string; version: string; predictions: { probability: number }[] };
  t.is(answer.model, MODEL);
  t.is(answer.version, env.versions.logreg!);
  t.true(answer.predictions[0]!.probability > 0 && answer.predictions[0]!.probability < 1);

  t.deepEqual(await stackDown({ stateDir }), ['serve']);
  t.false(isRunning(served.pid!));
});
