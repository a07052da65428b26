/**
 * The runs tell their story where operators look: a retrain on the real test stack carries the
 * custom search attributes, a readable id and a summary memo; `temporal workflow list --query`
 * finds it and its stage children by model and stage; and headless Chromium, driving the dev
 * server's Web UI, lists it under a search-attribute filter (and not under another model's),
 * saving a screenshot under .test-artifacts/.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRetrain } from '../../cli/runs.js';
import { REPO_ROOT } from '../../core/config.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { TOOLS, ensureTool } from '../../infra/tools.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import type { RetrainResult } from '../../schemas/workflows.js';
import { withChromium } from '../helpers/chromium.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const run = promisify(execFile);
const MODEL = `readmission-ui-${randomBytes(3).toString('hex')}`;
const UI_URL = `http://localhost:${process.env.CAREPIPE_TEST_UI_PORT ?? '18233'}`;
const ARTIFACTS = process.env.CAREPIPE_TEST_ARTIFACTS ?? join(REPO_ROOT, '.test-artifacts');
let env: PipelineEnv;
let workflowId: string;
let result: RetrainResult;

test.before(async () => {
  env = await createPipelineEnv('web-ui');
  await writeRawLake(env.deps.lake(env.lakeUri), { patients: 300, days: 2, seed: 8, messiness: 'none' });
  await env.startWorkers();
  const handle = await startRetrain(env.client, env.config, {
    actor: TEST_ACTOR,
    lake: env.lakeUri,
    model: MODEL,
    dataset: 'readmission',
    families: ['logreg'],
    bucketCount: 4,
    trigger: 'manual',
    ingest: {},
    codeVersion: 'test',
    gate: { maxEce: 0.5 },
  });
  workflowId = handle.workflowId;
  result = await handle.result();
});

test.after.always(async () => {
  await env?.close();
});

/** `temporal workflow list --query ...` against the test server: the workflow ids it prints. */
async function temporalList(query: string): Promise<string[]> {
  const binary = ensureTool(TOOLS.temporal, join(REPO_ROOT, process.env.CAREPIPE_TOOLS_DIR ?? '.tools'));
  const { stdout } = await run(binary, [
    'workflow',
    'list',
    '--address',
    env.config.temporal.address,
    '--namespace',
    'default',
    '--query',
    query,
    '--output',
    'json',
  ]);
  const rows = stdout.trim() === '' ? [] : (JSON.parse(stdout) as { execution: { workflowId: string } }[]);
  return rows.map((r) => r.execution.workflowId).sort();
}

/** Visibility catches up shortly after a run closes: ask until the answer is what is expected. */
async function eventually<T>(ask: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await ask();
  for (let i = 0; i < 60 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 250));
    v = await ask();
  }
  return v;
}

test('the run has a readable id, the custom search attributes and a summary memo without patient data', async (t) => {
  t.regex(workflowId, new RegExp(`^retrain/${MODEL}/\\d{8}T\\d{6}Z$`));
  const d = await env.client.workflow.getHandle(workflowId).describe();
  t.is(d.typedSearchAttributes.get(SA_MODEL), MODEL);
  t.is(d.typedSearchAttributes.get(SA_DATASET), `readmission@${result.features.version}`);
  t.is(d.typedSearchAttributes.get(SA_STAGE), 'done');
  t.is(d.typedSearchAttributes.get(SA_TRIGGER), 'manual');
  const memo = d.memo as Record<string, string>;
  t.is(memo.model, MODEL);
  t.is(memo.trigger, 'manual');
  t.true(memo.summary!.startsWith(result.promotion.promoted ? `promoted ${MODEL} ${result.promotion.version}` : 'not promoted'));
  t.true(memo.summary!.includes(`logreg: test ROC AUC ${result.best.metrics.rocAuc.toFixed(4)} on ${result.best.metrics.testRows} stays`));
  t.true(memo.summary!.includes(`features readmission@${result.features.version}: ${result.features.rows} stays in ${result.features.shards} shards`));
  t.false(/\bp[0-9a-f]{12}\b|s3:\/\//.test(memo.summary!), 'no pseudonym and no lake location in the memo');
  for (const stage of ['ingest', 'features', 'train']) {
    const child = await env.client.workflow.getHandle(`${workflowId}/${stage}`).describe();
    t.is(child.typedSearchAttributes.get(SA_STAGE), stage);
    t.is(child.typedSearchAttributes.get(SA_MODEL), MODEL);
  }
});

test('temporal workflow list --query finds the run by model and stage, and its children by stage', async (t) => {
  const done = await eventually(
    () => temporalList(`CarepipeModel = "${MODEL}" AND CarepipeStage = "done"`),
    (ids) => ids.length > 0,
  );
  t.deepEqual(done, [workflowId]);
  const features = await eventually(
    () => temporalList(`CarepipeModel = "${MODEL}" AND CarepipeStage = "features"`),
    (ids) => ids.length > 0,
  );
  t.deepEqual(features, [`${workflowId}/features`]);
  const all = await eventually(
    () => temporalList(`CarepipeModel = "${MODEL}"`),
    (ids) => ids.length >= 4,
  );
  t.deepEqual(all, [workflowId, `${workflowId}/features`, `${workflowId}/ingest`, `${workflowId}/train`].sort());
  t.deepEqual(await temporalList(`CarepipeModel = "${MODEL}" AND CarepipeTrigger = "schedule"`), []);
});

test('headless Chromium finds the run in the Web UI under a search-attribute filter and saves a screenshot', async (t) => {
  await withChromium(async (page) => {
    const list = (query: string) => `${UI_URL}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
    const filtered = list(`CarepipeModel = "${MODEL}" AND CarepipeStage = "done"`);
    // The UI reads visibility too: reload until the closed run is listed.
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await page.goto(filtered, { waitUntil: 'networkidle' });
      found = await page
        .getByText(workflowId, { exact: true })
        .first()
        .isVisible()
        .catch(() => false);
    }
    t.true(found, `${workflowId} is listed at ${filtered}`);
    t.is(await page.getByText(`${workflowId}/features`, { exact: true }).count(), 0, 'the stage filter leaves the children out');
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'web-ui-runs-by-model.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.true(statSync(shot).size > 10_000, 'a real screenshot');

    await page.goto(list(`CarepipeModel = "${MODEL}-other"`), { waitUntil: 'networkidle' });
    await page.waitForTimeout(500);
    t.is(await page.getByText(workflowId, { exact: true }).count(), 0, "another model's filter does not list the run");
  });
});
