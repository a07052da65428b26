/**
 * The five commands that start a run (`retrain`, `features`, `ingest`, `backfill`, `schedule
 * trigger`) go through one runWorkflowCommand: the same `started` and Web UI lines, the same
 * `--no-wait` return, the same progress view while following, the same `--json` documents and
 * the same failure. Each command's own RunCommand runs against an in-memory stand-in for the
 * Temporal client that answers the calls these commands make (start, getHandle, query, result,
 * and a schedule's describe and trigger); every run it starts fails once its progress has been
 * read once, which exercises the follow, progress and failure path without a server.
 */
import test from 'ava';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { backfillRun } from '../../cli/commands/backfill.js';
import { featuresRun } from '../../cli/commands/features.js';
import { ingestRun } from '../../cli/commands/ingest.js';
import { retrainRun } from '../../cli/commands/retrain.js';
import { triggerRun } from '../../cli/commands/schedule/trigger.js';
import { RunFailedError } from '../../cli/output.js';
import { type RunEnv, type RunFlags, runWorkflowCommand } from '../../cli/run-workflow.js';
import { TEST_ACTOR } from '../helpers/identity.js';
import { parseConfig } from '../../core/config.js';

/** What each workflow's progress query answers. */
const PROGRESS: Record<string, unknown> = {
  retrainWorkflow: { stage: 'train', stagesDone: ['ingest', 'features'], candidates: 0 },
  featuresWorkflow: { version: 'v-0123456789abcdef', bucketsTotal: 8, bucketsDone: 3, rows: 500, runs: 1, built: 3, reused: 0, present: 0 },
  ingestWorkflow: { filesDone: 3, filesListed: 8, listingDone: true, rowsIn: 1200, quarantinedFiles: 0 },
  backfillWorkflow: { stage: 'ingest', datesTotal: 4, datesDone: 1, datesFailed: 0, files: 5, rowsIn: 100, running: [] },
};

function fakeClient() {
  const runs = new Map<string, { type: string; result: Promise<never>; fail: () => void }>();
  const run = (workflowId: string, type = 'retrainWorkflow') => {
    let entry = runs.get(workflowId);
    if (!entry) {
      let reject: (err: unknown) => void = () => undefined;
      const result = new Promise<never>((_, r) => (reject = r));
      result.catch(() => undefined);
      const cause = ApplicationFailure.create({ message: 'boom', type: 'Boom', nonRetryable: true });
      entry = { type, result, fail: () => reject(new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE)) };
      runs.set(workflowId, entry);
    }
    return entry;
  };
  const handle = (workflowId: string) => ({
    workflowId,
    result: () => run(workflowId).result,
    query: async () => {
      const r = run(workflowId);
      setImmediate(r.fail);
      return PROGRESS[r.type];
    },
  });
  let triggered = false;
  const scheduled = 'retrain/readmission-30d/nightly-2026-01-01T02:00:00Z';
  const client = {
    connection: { close: async () => undefined },
    workflow: {
      start: async (fn: { name: string }, options: { workflowId: string }) => {
        run(options.workflowId, fn.name);
        return handle(options.workflowId);
      },
      getHandle: handle,
    },
    schedule: {
      getHandle: () => ({
        describe: async () => ({ info: { recentActions: triggered ? [{ action: { workflow: { workflowId: scheduled } } }] : [] } }),
        trigger: async () => {
          triggered = true;
        },
      }),
    },
  };
  return client as unknown as Client;
}

const shared = { dataset: 'readmission', model: 'readmission-30d', families: ['logreg' as const], buckets: 8 };
/** Each command with flags that pass its checks; `flags` are the run flags under test. */
const COMMANDS: [string, RegExp, (flags: RunFlags, env: RunEnv) => Promise<void>][] = [
  ['retrain', /^retrain\/readmission-30d\/\d{8}T\d{6}Z$/, (f, env) => runWorkflowCommand(retrainRun, { ...shared, ...f }, env)],
  ['features', /^features\/readmission\/\d{8}T\d{6}Z$/, (f, env) => runWorkflowCommand(featuresRun, { ...shared, ...f }, env)],
  ['ingest', /^ingest\/\d{8}T\d{6}Z$/, (f, env) => runWorkflowCommand(ingestRun, { ...shared, ...f }, env)],
  [
    'backfill',
    /^backfill\/2025-01-01\.\.2025-01-02\/\d{8}T\d{6}Z$/,
    (f, env) => runWorkflowCommand(backfillRun, { ...shared, from: '2025-01-01', to: '2025-01-02', parallel: 4, ...f }, env),
  ],
  ['schedule trigger', /^retrain\/readmission-30d\/nightly-2026-01-01T02:00:00Z$/, (f, env) => runWorkflowCommand(triggerRun, { id: 'nightly', ...f }, env)],
];
/** The progress line each command's run shows on a pipe: the shared view, its label and unit. */
const PROGRESS_LINE: Record<string, string> = {
  retrain: '  train     2/4 stages\n',
  features: '  features  3/8 shards  500 rows\n',
  ingest: '  ingest    3/8 files  1,200 rows\n',
  backfill: '  ingest    1/4 dates  100 rows\n',
  'schedule trigger': '  train     2/4 stages\n',
};

function envFor(): { env: RunEnv; out: string[] } {
  const out: string[] = [];
  const client = fakeClient();
  const config = parseConfig({ CAREPIPE_LAKE: 'file:///tmp/carepipe-run-workflow-test' });
  return {
    out,
    env: { config: () => config, connect: async () => client, write: (t) => out.push(t), stdout: { isTTY: false }, pollMs: 1, actor: async () => TEST_ACTOR },
  };
}

const urlOf = (id: string) => `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(id)}`;

test('--no-wait prints the same two lines for every command: the id, then the Web UI link indented', async (t) => {
  for (const [name, id, run] of COMMANDS) {
    const { env, out } = envFor();
    await run({ wait: false }, env);
    const [started, link, ...rest] = out.join('').split('\n');
    t.regex(started!, new RegExp(`^started ${id.source.slice(1, -1)}$`), name);
    t.is(link, `  ${urlOf(started!.slice('started '.length))}`, name);
    t.deepEqual(rest, [''], name);
  }
});

test('--no-wait --json prints one document with the workflow id and its link, for every command', async (t) => {
  for (const [name, id, run] of COMMANDS) {
    const { env, out } = envFor();
    await run({ wait: false, json: true }, env);
    t.is(out.length, 1, name);
    const doc = JSON.parse(out[0]!) as { workflowId: string; url: string };
    t.regex(doc.workflowId, id, name);
    t.is(doc.url, urlOf(doc.workflowId), name);
  }
});

test('following a run shows the shared progress view, and a failed run is one RunFailedError naming it', async (t) => {
  for (const [name, id, run] of COMMANDS) {
    const { env, out } = envFor();
    const err = await t.throwsAsync(run({}, env), { instanceOf: RunFailedError }, name);
    t.regex(err?.message ?? '', new RegExp(`^workflow ${id.source.slice(1, -1)} failed: boom$`), name);
    t.is(err?.failureType, 'Boom', name);
    const [started, link, progress] = out;
    t.regex(started!, /^started /, name);
    t.is(link, `  ${urlOf(started!.trim().slice('started '.length))}\n`, name);
    t.is(progress, PROGRESS_LINE[name], name);
  }
});

test('with --json a failed run prints one document: the run, its link and the error, and no progress', async (t) => {
  for (const [name, id, run] of COMMANDS) {
    const { env, out } = envFor();
    await t.throwsAsync(run({ json: true }, env), { instanceOf: RunFailedError }, name);
    t.is(out.length, 1, name);
    const doc = JSON.parse(out[0]!) as { workflowId: string; url: string; error: { type: string; message: string } };
    t.regex(doc.workflowId, id, name);
    t.is(doc.url, urlOf(doc.workflowId), name);
    t.deepEqual(doc.error, { type: 'Boom', message: `workflow ${doc.workflowId} failed: boom` }, name);
  }
});
