/**
 * `carepipe schedule` against the real test stack: a Temporal Schedule that starts
 * retrainWorkflow, created, listed, paused, triggered (a real retrain runs on the file's own
 * workers), backfilled through the schedule's own backfill, updated and deleted, all through the
 * command as an operator would run it, and checked against what the server holds.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { SA_MODEL, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import type { RetrainResult } from '../../schemas/workflows.js';
import { runCli } from '../helpers/cli.js';
import { pipelineCliEnv } from '../helpers/pipeline-cli.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';

let env: PipelineEnv;
const MODEL = 'readmission-sched-test';
const ID = `nightly-${randomBytes(3).toString('hex')}`;

interface DescribeJson {
  scheduleId: string;
  paused: boolean;
  note: string | null;
  when: { cron?: string; everyMs?: number; timezone: string; jitterMs: number };
  policies: { overlap: string; catchupWindowMs: number; pauseOnFailure: boolean };
  action: { workflowType: string; workflowId: string; taskQueue: string; input: { model: string; trigger: string; bucketCount: number; ingest?: object } };
  nextActionTimes: string[];
  recentActions: { workflowId: string }[];
}

const cli = (args: string[]) => runCli(args, pipelineCliEnv(env));

async function describe(): Promise<DescribeJson> {
  const r = await cli(['schedule', 'describe', ID, '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as DescribeJson;
}

test.before(async () => {
  env = await createPipelineEnv('schedule');
  await writeRawLake(env.deps.lake(env.lakeUri), { patients: 300, days: 3, seed: 5, messiness: 'none' });
  await env.startWorkers();
});

test.after.always(async () => {
  await env?.client.schedule
    .getHandle(ID)
    .delete()
    .catch(() => undefined);
  await env?.close();
});

test.serial('schedule create sets cron, time zone, jitter, overlap, an explicit catch-up window and pause on failure', async (t) => {
  const r = await cli([
    'schedule',
    'create',
    ID,
    '--model',
    MODEL,
    '--buckets',
    '8',
    '--cron',
    '0 2 * * *',
    '--timezone',
    'Europe/Berlin',
    '--jitter',
    '5m',
    '--overlap',
    'buffer-one',
    '--catchup-window',
    '30m',
    '--json',
  ]);
  t.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as DescribeJson;
  t.is(d.scheduleId, ID);
  t.false(d.paused);
  t.deepEqual(d.when, { cron: '0 2 * * *', timezone: 'Europe/Berlin', jitterMs: 300_000 });
  t.deepEqual(d.policies, { overlap: 'buffer-one', catchupWindowMs: 1_800_000, pauseOnFailure: true });
  t.is(d.action.workflowType, 'retrainWorkflow');
  t.is(d.action.workflowId, `retrain/${MODEL}/${ID}`);
  t.is(d.action.taskQueue, `${env.queuePrefix}-orchestration`);
  t.is(d.action.input.model, MODEL);
  t.is(d.action.input.trigger, 'schedule');
  t.is(d.action.input.bucketCount, 8);
  t.deepEqual(d.action.input.ingest, {}, 'scheduled retrains ingest new raw files first by default');
  // The next start is 02:00 in Berlin, plus at most 5 minutes of jitter.
  const next = new Date(d.nextActionTimes[0]!);
  const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
  t.regex(berlin, /^02:0[0-5]$/);
  // What the server holds, read with the SDK rather than the command.
  const server = await env.client.schedule.getHandle(ID).describe();
  t.is(server.spec.timezone, 'Europe/Berlin');
  t.is(server.spec.jitter, 300_000);
  t.is(server.policies.catchupWindow, 1_800_000);
  t.is(server.typedSearchAttributes.get(SA_MODEL), MODEL);
});

test.serial('creating the same schedule again is a usage error that says how to change it', async (t) => {
  const r = await cli(['schedule', 'create', ID, '--model', MODEL, '--cron', '0 2 * * *']);
  t.is(r.code, 2);
  t.is(r.stderr, `carepipe: schedule "${ID}" already exists: change it with \`carepipe schedule update ${ID}\`\n`);
});

test.serial('schedule list finds the schedule by its model', async (t) => {
  // Schedule listing reads the visibility store, which catches up shortly after a create.
  let ids: string[] = [];
  for (let i = 0; i < 40 && !ids.includes(ID); i++) {
    const r = await cli(['schedule', 'list', '--model', MODEL, '--json']);
    t.is(r.code, 0, r.stderr);
    ids = (JSON.parse(r.stdout) as { scheduleId: string }[]).map((s) => s.scheduleId);
    if (!ids.includes(ID)) await new Promise((res) => setTimeout(res, 250));
  }
  t.deepEqual(ids, [ID]);
});

test.serial('pause and unpause change the state and keep the note', async (t) => {
  const paused = await cli(['schedule', 'pause', ID, '--note', 'lake maintenance']);
  t.is(paused.code, 0, paused.stderr);
  t.is(paused.stdout, `${ID} paused: lake maintenance\n`);
  const d = await describe();
  t.true(d.paused);
  t.is(d.note, 'lake maintenance');
  const resumed = await cli(['schedule', 'unpause', ID, '--json']);
  t.is(resumed.code, 0, resumed.stderr);
  t.false((JSON.parse(resumed.stdout) as DescribeJson).paused);
});

test.serial('schedule trigger starts a real retrain with trigger=schedule, a readable id and a summary memo', async (t) => {
  const r = await cli(['schedule', 'trigger', ID, '--wait', '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { workflowId: string; promoted: string | null; features: RetrainResult['features']; ingest: RetrainResult['ingest'] };
  t.regex(out.workflowId, new RegExp(`^retrain/${MODEL}/${ID}-\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$`));
  t.truthy(out.ingest);
  t.true(out.ingest!.files > 0);
  t.true(out.features.rows > 0);
  const run = await env.client.workflow.getHandle(out.workflowId).describe();
  t.is(run.status.name, 'COMPLETED');
  t.is(run.typedSearchAttributes.get(SA_TRIGGER), 'schedule');
  t.is(run.typedSearchAttributes.get(SA_MODEL), MODEL);
  t.is(run.typedSearchAttributes.get(SA_STAGE), 'done');
  const memo = run.memo as { trigger: string; schedule: string; summary: string };
  t.is(memo.trigger, 'schedule');
  t.is(memo.schedule, ID);
  t.regex(memo.summary, /^(promoted|not promoted).*logreg: test ROC AUC 0\.\d{4} on \d+ stays; features readmission@v-[0-9a-f]{16}: \d+ stays in \d+ shards/);
  const d = await describe();
  t.deepEqual(
    d.recentActions.map((a) => a.workflowId),
    [out.workflowId],
  );
});

test.serial('schedule backfill replays the schedule over a past range with the chosen overlap policy', async (t) => {
  // 02:00 in Berlin on 2025-01-01 is 01:00 UTC: one start in this range.
  const r = await cli(['schedule', 'backfill', ID, '--from', '2025-01-01T00:00:00Z', '--to', '2025-01-01T03:00:00Z', '--overlap', 'allow-all', '--json']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { scheduleId: ID, start: '2025-01-01T00:00:00.000Z', end: '2025-01-01T03:00:00.000Z', overlap: 'allow-all' });
  let backfilled: string | undefined;
  for (let i = 0; i < 80 && !backfilled; i++) {
    backfilled = (await describe()).recentActions.map((a) => a.workflowId).find((id) => id.startsWith(`retrain/${MODEL}/${ID}-2025-01-01T01:0`));
    if (!backfilled) await new Promise((res) => setTimeout(res, 250));
  }
  t.truthy(backfilled, 'the backfilled start was taken');
  const handle = env.client.workflow.getHandle(backfilled!);
  await handle.result();
  const run = await handle.describe();
  t.is(run.status.name, 'COMPLETED');
  t.is(run.typedSearchAttributes.get(SA_TRIGGER), 'schedule');
  t.is((await describe()).recentActions.length, 2);
});

test.serial('schedule update changes only what it is given', async (t) => {
  const r = await cli(['schedule', 'update', ID, '--every', '6h', '--overlap', 'skip', '--no-pause-on-failure', '--json']);
  t.is(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as DescribeJson;
  t.deepEqual(d.when, { everyMs: 21_600_000, timezone: 'Europe/Berlin', jitterMs: 300_000 });
  t.deepEqual(d.policies, { overlap: 'skip', catchupWindowMs: 1_800_000, pauseOnFailure: false });
  t.is(d.action.input.model, MODEL, 'the retrain input is kept');
  t.is(d.action.input.bucketCount, 8);
  const server = await env.client.schedule.getHandle(ID).describe();
  t.deepEqual(server.spec.intervals, [{ every: 21_600_000, offset: 0 }]);
  t.deepEqual(server.spec.calendars ?? [], [], 'the cron is replaced, not added to');
});

test.serial('schedule delete removes it; describing it afterwards is a usage error naming the schedule', async (t) => {
  const r = await cli(['schedule', 'delete', ID]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `deleted schedule ${ID}\n`);
  await t.throwsAsync(env.client.schedule.getHandle(ID).describe(), { instanceOf: ScheduleNotFoundError });
  const again = await cli(['schedule', 'describe', ID]);
  t.is(again.code, 2);
  t.is(again.stderr, `carepipe: no schedule "${ID}" in namespace default\n`);
});

test('bad schedule arguments are one-line usage errors (exit 2) before anything is sent', async (t) => {
  const cases: [string[], string][] = [
    [
      ['schedule', 'create', 'x1', '--cron', 'often'],
      'carepipe: --cron must have 5 to 7 fields (minute hour day-of-month month day-of-week) or be @daily, @hourly, ..., got "often"\n',
    ],
    // Durations are the SDK's Duration strings (`10 minutes` is one); a bare number, which that format reads as milliseconds, is not.
    [['schedule', 'create', 'x1', '--every', 'often'], 'carepipe: --every must be a duration with a unit, such as 90s, 15m, 6h or 1d, got "often"\n'],
    [['schedule', 'create', 'x1', '--every', '60'], 'carepipe: --every must be a duration with a unit, such as 90s, 15m, 6h or 1d, got "60"\n'],
    [['schedule', 'create', 'x1', '--every', '500ms'], 'carepipe: --every must be at least 1s, got "500ms"\n'],
    [
      ['schedule', 'create', 'x1', '--every', '1h', '--overlap', 'sometimes'],
      'carepipe: --overlap must be one of skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all, got "sometimes"\n',
    ],
    [
      ['schedule', 'create', 'x1', '--every', '1h', '--timezone', 'Mars/Olympus'],
      'carepipe: --timezone must be an IANA time zone name such as UTC or Europe/Berlin, got "Mars/Olympus"\n',
    ],
    [['schedule', 'create', 'x1'], 'carepipe: say when: --cron "<expression>" or --every <duration>\n'],
    [['schedule', 'create', 'Bad Id', '--every', '1h'], "carepipe: the schedule id must be 1-63 characters of a-z, 0-9, '.', '_' and '-', got \"Bad Id\"\n"],
    [['schedule', 'backfill', 'x1', '--from', '2025-01-02', '--to', '2025-01-01'], 'carepipe: --from (2025-01-02) must be before --to (2025-01-01)\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, stderr);
  }
});

test('an unreachable Temporal server is exit 3 for schedule commands too', async (t) => {
  const r = await runCli(['schedule', 'list'], pipelineCliEnv(env, { CAREPIPE_TEMPORAL_ADDRESS: '127.0.0.1:1' }));
  t.is(r.code, 3);
  t.regex(r.stderr, /^carepipe: cannot reach Temporal at 127\.0\.0\.1:1 \(CAREPIPE_TEMPORAL_ADDRESS\)/);
});

test('every schedule subcommand and backfill has its own --help', async (t) => {
  for (const command of ['create', 'list', 'describe', 'pause', 'unpause', 'trigger', 'update', 'backfill', 'delete']) {
    const r = await runCli(['schedule', command, '--help'], pipelineCliEnv(env));
    t.is(r.code, 0, command);
    t.regex(r.stdout, new RegExp(`^Usage: carepipe schedule ${command} `, 'm'));
  }
  const backfill = await runCli(['backfill', '--help'], pipelineCliEnv(env));
  t.is(backfill.code, 0);
  t.regex(backfill.stdout, /--resume <workflowId>/);
});
