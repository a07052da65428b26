/**
 * A schedule's timing and its action: what `create` and `update` send. The timing is recorded in
 * the action's memo as well, since the server compiles cron into calendars and a schedule's own
 * memo cannot change after creation.
 */
import type { ScheduleOptionsStartWorkflowAction, ScheduleSpec } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Config } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { taskQueue, WORKFLOW_TYPES } from '../../../schemas/names.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../../../schemas/search-attributes.js';
import type { ScoreInput } from '../../../schemas/score.js';
import type { RetrainInput } from '../../../schemas/workflows.js';
import type { retrainWorkflow, scoreWorkflow } from '../../../workflows/index.js';

/** The recorded shape of a schedule's timing. */
export interface When {
  cron?: string;
  everyMs?: number;
  offsetMs?: number;
  timezone: string;
  jitterMs: number;
}

/** The timing flags, parsed (durations in milliseconds). */
export interface WhenOptions {
  cron?: string;
  every?: number;
  offset?: number;
  timezone?: string;
  jitter?: number;
}

export const touchesWhen = (opts: WhenOptions) => [opts.cron, opts.every, opts.offset, opts.timezone, opts.jitter].some((v) => v !== undefined);

/** The timing from the flags, over the previous timing when updating: --cron and --every replace each other. */
export function parseWhen(opts: WhenOptions, previous?: When): When {
  if (opts.cron !== undefined && opts.every !== undefined) throw new ConfigError('give --cron or --every, not both');
  const base: When = previous ?? { timezone: 'UTC', jitterMs: 0 };
  let when: When = { ...base };
  if (opts.cron !== undefined) when = { timezone: base.timezone, jitterMs: base.jitterMs, cron: opts.cron };
  if (opts.every !== undefined) when = { timezone: base.timezone, jitterMs: base.jitterMs, everyMs: opts.every };
  if (opts.offset !== undefined) {
    if (when.everyMs === undefined) throw new ConfigError('--offset applies to --every');
    when.offsetMs = opts.offset;
  }
  if (opts.timezone !== undefined) when.timezone = opts.timezone;
  if (opts.jitter !== undefined) when.jitterMs = opts.jitter;
  if (when.cron === undefined && when.everyMs === undefined) throw new ConfigError('say when: --cron "<expression>" or --every <duration>');
  return when;
}

export function specOf(when: When): ScheduleSpec {
  return {
    ...(when.cron ? { cronExpressions: [when.cron] } : {}),
    ...(when.everyMs ? { intervals: [{ every: when.everyMs, offset: when.offsetMs ?? 0 }] } : {}),
    timezone: when.timezone,
    jitter: when.jitterMs,
  };
}

export function actionOf(config: Config, scheduleId: string, input: RetrainInput, when: When): ScheduleOptionsStartWorkflowAction<typeof retrainWorkflow> {
  return {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPES.retrain,
    // The server appends the scheduled time: retrain/<model>/<schedule>-2026-01-01T02:00:00Z.
    workflowId: `retrain/${input.model}/${scheduleId}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_MODEL, value: input.model },
      { key: SA_DATASET, value: input.dataset },
      { key: SA_STAGE, value: 'starting' },
      { key: SA_TRIGGER, value: 'schedule' },
    ]),
    memo: { model: input.model, dataset: input.dataset, families: input.families.join(','), trigger: 'schedule', schedule: scheduleId, when },
  };
}

/** A schedule that starts scoreWorkflow (`schedule create --workflow score`): e.g. a daily list of high-risk discharges. */
export function scoreActionOf(config: Config, scheduleId: string, input: ScoreInput, when: When): ScheduleOptionsStartWorkflowAction<typeof scoreWorkflow> {
  return {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPES.score,
    // The server appends the scheduled time: score/<model>/<schedule>-2026-01-01T02:00:00Z.
    workflowId: `score/${input.model}/${scheduleId}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_MODEL, value: input.model },
      { key: SA_STAGE, value: 'score' },
      { key: SA_TRIGGER, value: 'schedule' },
    ]),
    memo: { model: input.model, trigger: 'schedule', schedule: scheduleId, when },
  };
}
