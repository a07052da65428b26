/**
 * `carepipe schedule ...`: Temporal Schedules that start retrainWorkflow (cron or interval, time
 * zone, overlap policy, an explicit catch-up window, jitter, pause on failure). Scheduled runs
 * carry CarepipeTrigger=schedule and ids `retrain/<model>/<schedule id>-<scheduled time>`.
 * The schedule's own backfill (`schedule backfill`) replays the times it would have fired in a
 * past range, under a chosen overlap policy.
 */
import {
  type Client, ScheduleAlreadyRunning, type ScheduleDescription, type ScheduleHandle, ScheduleNotFoundError,
  type ScheduleOptions, ScheduleOverlapPolicy, type ScheduleSpec,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { type Config, loadConfig, requireKeys } from '../../core/config.js';
import { ConfigError, InvalidInputError } from '../../core/errors.js';
import { isIngestDate } from '../../data-lake/layout.js';
import { taskQueue, WORKFLOW_TYPES } from '../../schemas/names.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import type { RetrainInput } from '../../schemas/workflows.js';
import type { retrainWorkflow } from '../../workflows/index.js';
import { action, printJson, RunFailedError, say } from '../output.js';
import { createProgressView, progressMode } from '../progress.js';
import { probeRetrain, watch } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';
import { type RetrainOptions, retrainInput, summarize } from './retrain.js';

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};
const OVERLAP_NAMES = Object.keys(OVERLAP).join(', ');

export function parseOverlap(value: string, flag = '--overlap'): ScheduleOverlapPolicy {
  const policy = OVERLAP[value];
  if (!policy) throw new ConfigError(`${flag} must be one of ${OVERLAP_NAMES}, got "${value}"`);
  return policy;
}

function overlapName(policy: ScheduleOverlapPolicy | undefined): string {
  return Object.entries(OVERLAP).find(([, p]) => p === policy)?.[0] ?? 'skip';
}

/** `90s`, `15m`, `1h`, `1d`: a duration in milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(value);
  if (!m) throw new ConfigError(`${flag} must be a whole number with a unit s, m, h or d (e.g. 15m), got "${value}"`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function durationName(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

export function checkTimezone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch (cause) {
    throw new ConfigError(`--timezone must be an IANA time zone name such as UTC or Europe/Berlin, got "${tz}"`, { cause });
  }
  return tz;
}

export function checkScheduleId(id: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(id)) throw new ConfigError(`the schedule id must be 1-63 characters of a-z, 0-9, '.', '_' and '-', got "${id}"`);
  return id;
}

interface WhenOptions { cron?: string; every?: string; offset?: string; timezone?: string; jitter?: string }
interface PolicyOptions { overlap?: string; catchupWindow?: string; pauseOnFailure?: boolean }
type CreateOptions = RetrainOptions & WhenOptions & PolicyOptions & { paused?: boolean; note?: string; ingest?: boolean };

/** The recorded shape of a schedule's timing: kept in its memo, since the server compiles cron into calendars. */
interface When { cron?: string; everyMs?: number; offsetMs?: number; timezone: string; jitterMs: number }

export function parseWhen(opts: WhenOptions, previous?: When): When {
  if (opts.cron !== undefined && opts.every !== undefined) throw new ConfigError('give --cron or --every, not both');
  const base: When = previous ?? { timezone: 'UTC', jitterMs: 0 };
  let when: When = { ...base };
  if (opts.cron !== undefined) {
    const fields = opts.cron.trim().split(/\s+/);
    if (!(opts.cron.trim().startsWith('@') || (fields.length >= 5 && fields.length <= 7))) {
      throw new ConfigError(`--cron must have 5 to 7 fields (minute hour day-of-month month day-of-week) or be @daily, @hourly, ..., got "${opts.cron}"`);
    }
    when = { timezone: base.timezone, jitterMs: base.jitterMs, cron: opts.cron.trim() };
  }
  if (opts.every !== undefined) when = { timezone: base.timezone, jitterMs: base.jitterMs, everyMs: parseDuration(opts.every, '--every') };
  if (opts.offset !== undefined) {
    if (when.everyMs === undefined) throw new ConfigError('--offset applies to --every');
    when.offsetMs = parseDuration(opts.offset, '--offset');
  }
  if (opts.timezone !== undefined) when.timezone = checkTimezone(opts.timezone);
  if (opts.jitter !== undefined) when.jitterMs = parseDuration(opts.jitter, '--jitter');
  if (when.cron === undefined && when.everyMs === undefined) throw new ConfigError('say when: --cron "<expression>" or --every <duration>');
  return when;
}

function specOf(when: When): ScheduleSpec {
  return {
    ...(when.cron ? { cronExpressions: [when.cron] } : {}),
    ...(when.everyMs ? { intervals: [{ every: when.everyMs, offset: when.offsetMs ?? 0 }] } : {}),
    timezone: when.timezone,
    jitter: when.jitterMs,
  };
}

function actionOf(config: Config, scheduleId: string, input: RetrainInput, when: When) {
  return {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPES.retrain,
    // The server appends the scheduled time: retrain/<model>/<schedule>-2026-01-01T02:00:00Z.
    workflowId: `retrain/${input.model}/${scheduleId}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_MODEL, value: input.model }, { key: SA_DATASET, value: input.dataset },
      { key: SA_STAGE, value: 'starting' }, { key: SA_TRIGGER, value: 'schedule' },
    ]),
    // The timing rides in the action's memo: a schedule's own memo cannot change after creation.
    memo: { model: input.model, dataset: input.dataset, families: input.families.join(','), trigger: 'schedule', schedule: scheduleId, when },
  };
}

async function withClient<T>(body: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const client = await connectClient(config, requireKeys(config));
  try {
    return await body(client, config);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new InvalidInputError(`no schedule "${err.scheduleId}" in namespace ${config.temporal.namespace}`, { cause: err });
    throw err;
  } finally {
    await client.connection.close();
  }
}

/** A schedule's description as JSON a script can use (dates as ISO strings). */
export function describeJson(d: ScheduleDescription) {
  const memo = { ...(d.memo ?? {}), ...(d.action.memo ?? {}) } as { when?: When };
  const input = d.action.args?.[0] as RetrainInput | undefined;
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note ?? null,
    when: memo.when ?? null,
    policies: { overlap: overlapName(d.policies.overlap), catchupWindowMs: d.policies.catchupWindow, pauseOnFailure: d.policies.pauseOnFailure },
    action: { workflowType: d.action.workflowType, workflowId: d.action.workflowId, taskQueue: d.action.taskQueue, input: input ?? null },
    nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId })),
    runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    numActionsTaken: d.info.numActionsTaken,
    numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
  };
}

function printDescription(config: Config, d: ReturnType<typeof describeJson>): void {
  const w = d.when;
  const input = d.action.input;
  say(`schedule ${d.scheduleId}  ${d.paused ? 'PAUSED' : 'active'}${d.note ? ` (${d.note})` : ''}`);
  if (input) say(`  retrains ${input.model} on ${input.dataset} (${input.families.join(', ')}), ${input.ingest ? 'ingesting new raw files first' : 'from the curated zone'}, lake ${input.lake}`);
  if (w) say(`  when     ${w.cron ? `cron "${w.cron}"` : `every ${durationName(w.everyMs ?? 0)}${w.offsetMs ? ` offset ${durationName(w.offsetMs)}` : ''}`} in ${w.timezone}, jitter ${durationName(w.jitterMs)}`);
  say(`  policies overlap ${d.policies.overlap}, catch-up window ${durationName(d.policies.catchupWindowMs)}, pause on failure ${d.policies.pauseOnFailure ? 'yes' : 'no'}`);
  say(`  next     ${d.nextActionTimes.slice(0, 3).join(', ') || '(none while paused)'}`);
  for (const a of d.recentActions) say(`  ran      ${a.takenAt} ${a.workflowId}`);
  for (const id of d.runningWorkflows) say(`  running  ${id}  ${workflowUrl(config, id)}`);
}

function addWhenAndPolicyOptions(cmd: Command, withDefaults: boolean): Command {
  return cmd
    .option('--cron <expression>', 'cron expression, e.g. "0 2 * * *" (minute hour day-of-month month day-of-week)')
    .option('--every <duration>', 'interval instead of cron: 30m, 6h, 1d')
    .option('--offset <duration>', 'phase of --every, e.g. 2h with --every 1d: 02:00 each day')
    .option('--timezone <tz>', `IANA time zone of the cron fields${withDefaults ? ' (default UTC)' : ''}`)
    .option('--jitter <duration>', `random delay added to each start, e.g. 5m${withDefaults ? ' (default 0s)' : ''}`)
    .option('--overlap <policy>', `when a run is still going at the next start: ${OVERLAP_NAMES}${withDefaults ? ' (default skip)' : ''}`)
    .option('--catchup-window <duration>', `how late a start missed while Temporal was down may still run${withDefaults ? ' (default 1h)' : ''}`)
    .option('--pause-on-failure', withDefaults ? 'pause the schedule when a run fails (the default)' : 'pause the schedule when a run fails')
    .option('--no-pause-on-failure', 'keep starting runs after a failed one');
}

function addRetrainOptions(cmd: Command, withDefaults: boolean): Command {
  const d = <T>(v: T) => (withDefaults ? v : undefined);
  return cmd
    .option('--lake <uri>', 'lake URI; default CAREPIPE_LAKE')
    .option('--model <name>', 'registry model name', d('readmission-30d'))
    .option('--dataset <name>', 'feature dataset name', d('readmission'))
    .option('--families <list>', 'comma-separated model families', d('logreg'))
    .option('--buckets <n>', 'patient buckets of the curated zone', d('32'))
    .option('--ingest', withDefaults ? 'ingest new raw files first (the default)' : 'ingest new raw files first')
    .option('--no-ingest', 'train on the curated zone as it is');
}

async function newActionAfter(handle: ScheduleHandle, before: Set<string>, waitMs = 20_000): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const d = await handle.describe();
    const fresh = d.info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => !before.has(id));
    if (fresh) return fresh;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** YYYY-MM-DD (the start of that UTC day; as --to, its end) or an ISO timestamp. */
export function parseInstant(value: string, flag: string, endOfDay: boolean): Date {
  if (isIngestDate(value)) return new Date(Date.parse(`${value}T00:00:00Z`) + (endOfDay ? 86_400_000 - 1 : 0));
  const t = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new ConfigError(`${flag} must be a date YYYY-MM-DD or an ISO timestamp, got "${value}"`);
  return new Date(t);
}

export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description(COMMANDS.schedule);

  addRetrainOptions(addWhenAndPolicyOptions(schedule.command('create <id>')
    .description('create a schedule that starts retrainWorkflow (runs carry CarepipeTrigger=schedule)'), true), true)
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule (e.g. why it is paused)')
    .option('--json', 'print the schedule as JSON')
    .action(action(async (id: string, opts: CreateOptions) => {
      checkScheduleId(id);
      const config = loadConfig();
      const input: RetrainInput = { ...retrainInput({ ...opts, ingest: false, wait: true }, config.lake.uri), trigger: 'schedule', ...(opts.ingest !== false ? { ingest: {} } : {}) };
      const when = parseWhen(opts);
      const options: ScheduleOptions = {
        scheduleId: id,
        spec: specOf(when),
        action: actionOf(config, id, input, when),
        policies: {
          overlap: parseOverlap(opts.overlap ?? 'skip'),
          catchupWindow: parseDuration(opts.catchupWindow ?? '1h', '--catchup-window'),
          pauseOnFailure: opts.pauseOnFailure ?? true,
        },
        memo: { when },
        typedSearchAttributes: new TypedSearchAttributes([{ key: SA_MODEL, value: input.model }, { key: SA_TRIGGER, value: 'schedule' }]),
        state: { paused: opts.paused ?? false, ...(opts.note ? { note: opts.note } : {}) },
      };
      await withClient(async (client) => {
        try {
          const handle = await client.schedule.create(options);
          const d = describeJson(await handle.describe());
          if (opts.json) return printJson(d);
          say(`created schedule ${id}`);
          printDescription(config, d);
        } catch (err) {
          if (err instanceof ScheduleAlreadyRunning) throw new InvalidInputError(`schedule "${id}" already exists: change it with \`carepipe schedule update ${id}\``, { cause: err });
          throw err;
        }
      });
    }));

  schedule.command('list')
    .description('the schedules of this namespace that start retrainWorkflow')
    .option('--model <name>', 'only schedules of this model')
    .option('--json', 'print them as JSON')
    .action(action(async (opts: { model?: string; json?: boolean }) => withClient(async (client) => {
      const rows: { scheduleId: string; paused: boolean; note: string | null; model: string | null; nextActionTimes: string[]; lastWorkflowId: string | null }[] = [];
      const query = opts.model ? `${SA_MODEL.name} = "${opts.model.replace(/"/g, '')}"` : undefined;
      for await (const s of client.schedule.list(query ? { query } : {})) {
        if (s.action?.workflowType !== WORKFLOW_TYPES.retrain) continue;
        const last = s.info.recentActions.at(-1);
        rows.push({
          scheduleId: s.scheduleId, paused: s.state.paused, note: s.state.note ?? null, model: s.typedSearchAttributes?.get(SA_MODEL) ?? null,
          nextActionTimes: s.info.nextActionTimes.map((t) => t.toISOString()), lastWorkflowId: last?.action.workflow.workflowId ?? null,
        });
      }
      if (opts.json) return printJson(rows);
      if (rows.length === 0) return say('no retrain schedules');
      for (const r of rows) say(`${r.scheduleId}  ${r.paused ? 'PAUSED' : 'active'}  model ${r.model ?? '?'}  next ${r.nextActionTimes[0] ?? '-'}  last ${r.lastWorkflowId ?? '-'}`);
    })));

  schedule.command('describe <id>')
    .description('a schedule\'s timing, policies, state, next starts and recent runs')
    .option('--json', 'print it as JSON')
    .action(action(async (id: string, opts: { json?: boolean }) => withClient(async (client, config) => {
      const d = describeJson(await client.schedule.getHandle(id).describe());
      if (opts.json) return printJson(d);
      printDescription(config, d);
    })));

  for (const [verb, paused] of [['pause', true], ['unpause', false]] as const) {
    schedule.command(`${verb} <id>`)
      .description(paused ? 'stop starting runs (running ones go on)' : 'start runs again')
      .option('--note <text>', 'why (shown with the schedule)')
      .option('--json', 'print the schedule as JSON')
      .action(action(async (id: string, opts: { note?: string; json?: boolean }) => withClient(async (client) => {
        const handle = client.schedule.getHandle(id);
        const note = opts.note ?? `${paused ? 'paused' : 'unpaused'} with carepipe schedule ${verb}`;
        if (paused) await handle.pause(note);
        else await handle.unpause(note);
        const d = describeJson(await handle.describe());
        if (opts.json) return printJson(d);
        say(`${id} ${d.paused ? 'paused' : 'active'}: ${d.note ?? ''}`);
      })));
  }

  schedule.command('trigger <id>')
    .description('start the schedule\'s retrain now')
    .option('--overlap <policy>', `overlap policy for this start (${OVERLAP_NAMES}); default the schedule's own`)
    .option('--wait', 'follow the run to its end (progress bars on a terminal)')
    .option('--json', 'print the run (and with --wait its result) as JSON')
    .action(action(async (id: string, opts: { overlap?: string; wait?: boolean; json?: boolean }) => withClient(async (client, config) => {
      const overlap = opts.overlap !== undefined ? parseOverlap(opts.overlap) : undefined;
      const handle = client.schedule.getHandle(id);
      const before = new Set((await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId));
      await handle.trigger(overlap);
      const workflowId = await newActionAfter(handle, before);
      if (!workflowId) throw new RunFailedError(`schedule ${id} started no run: under its overlap policy a run still going takes precedence (see \`carepipe schedule describe ${id}\`)`);
      const url = workflowUrl(config, workflowId);
      if (!opts.wait) return opts.json ? printJson({ scheduleId: id, workflowId, url }) : say(`started ${workflowId}\n  ${url}`);
      if (!opts.json) say(`started ${workflowId}\n  ${url}`);
      const run = client.workflow.getHandle<typeof retrainWorkflow>(workflowId);
      const view = createProgressView(progressMode(opts.json));
      const result = await watch(run, () => probeRetrain(client, workflowId), (p) => view.update(p)).finally(() => view.finish());
      if (opts.json) return printJson({ scheduleId: id, workflowId, url, ...summarize(result) });
      say(result.promotion.promoted ? `promoted ${result.promotion.version}: ${result.promotion.reason}` : `not promoted (${result.promotion.version}): ${result.promotion.reason}`);
    })));

  addRetrainOptions(addWhenAndPolicyOptions(schedule.command('update <id>')
    .description('change a schedule: only the options given change'), false), false)
    .option('--json', 'print the schedule as JSON')
    .action(action(async (id: string, opts: Partial<CreateOptions>) => withClient(async (client, config) => {
      const handle = client.schedule.getHandle(id);
      const current = await handle.describe();
      const previousWhen = describeJson(current).when ?? undefined;
      const touchesWhen = [opts.cron, opts.every, opts.offset, opts.timezone, opts.jitter].some((v) => v !== undefined);
      if (!previousWhen && !touchesWhen) throw new InvalidInputError(`schedule "${id}" was not made by carepipe schedule create: give its timing (--cron or --every)`);
      const when = touchesWhen ? parseWhen(opts, previousWhen) : previousWhen!;
      const prevInput = current.action.args?.[0] as RetrainInput | undefined;
      if (!prevInput) throw new InvalidInputError(`schedule "${id}" has no retrain input: recreate it with carepipe schedule create`);
      const input: RetrainInput = {
        ...prevInput,
        ...(opts.lake || opts.model || opts.dataset || opts.families || opts.buckets
          ? (({ ingest: _ingest, hyperparameters: _hyperparameters, ...rest }) => rest)(retrainInput({
            lake: opts.lake ?? prevInput.lake, model: opts.model ?? prevInput.model, dataset: opts.dataset ?? prevInput.dataset,
            families: opts.families ?? prevInput.families.join(','), buckets: opts.buckets ?? String(prevInput.bucketCount), wait: true,
          }, config.lake.uri))
          : {}),
        trigger: 'schedule',
      };
      if (opts.ingest === true) input.ingest = {};
      if (opts.ingest === false) delete input.ingest;
      await handle.update((prev) => ({
        ...prev,
        spec: touchesWhen ? specOf(when) : prev.spec,
        action: actionOf(config, id, input, when),
        policies: {
          overlap: opts.overlap !== undefined ? parseOverlap(opts.overlap) : prev.policies.overlap,
          catchupWindow: opts.catchupWindow !== undefined ? parseDuration(opts.catchupWindow, '--catchup-window') : prev.policies.catchupWindow,
          pauseOnFailure: opts.pauseOnFailure ?? prev.policies.pauseOnFailure,
        },
        state: { paused: prev.state.paused, ...(prev.state.note ? { note: prev.state.note } : {}) },
      }));
      const d = describeJson(await handle.describe());
      if (opts.json) return printJson(d);
      say(`updated schedule ${id}`);
      printDescription(config, d);
    })));

  schedule.command('backfill <id>')
    .description('run the schedule over a past range: one retrain per time it would have fired')
    .requiredOption('--from <time>', 'start: YYYY-MM-DD (that day\'s 00:00 UTC) or an ISO timestamp')
    .requiredOption('--to <time>', 'end: YYYY-MM-DD (that day\'s end, UTC) or an ISO timestamp')
    .option('--overlap <policy>', `overlap policy for the backfilled starts: ${OVERLAP_NAMES}`, 'buffer-all')
    .option('--json', 'print what was requested as JSON')
    .action(action(async (id: string, opts: { from: string; to: string; overlap: string; json?: boolean }) => {
      const start = parseInstant(opts.from, '--from', false);
      const end = parseInstant(opts.to, '--to', true);
      if (start >= end) throw new ConfigError(`--from (${opts.from}) must be before --to (${opts.to})`);
      const overlap = parseOverlap(opts.overlap);
      await withClient(async (client) => {
        await client.schedule.getHandle(id).backfill({ start, end, overlap });
        const out = { scheduleId: id, start: start.toISOString(), end: end.toISOString(), overlap: overlapName(overlap) };
        if (opts.json) return printJson(out);
        say(`backfilling ${id} from ${out.start} to ${out.end} (overlap ${out.overlap}); watch it with \`carepipe schedule describe ${id}\``);
      });
    }));

  schedule.command('delete <id>')
    .description('delete a schedule (runs it started go on)')
    .option('--json', 'print the result as JSON')
    .action(action(async (id: string, opts: { json?: boolean }) => withClient(async (client) => {
      await client.schedule.getHandle(id).delete();
      if (opts.json) return printJson({ scheduleId: id, deleted: true });
      say(`deleted schedule ${id}`);
    })));
}
