/** A schedule as JSON a script can use, and as lines a person reads. */
import type { ScheduleDescription } from '@temporalio/client';
import type { Config } from '../../../core/config.js';
import type { RetrainInput } from '../../../schemas/workflows.js';
import { workflowUrl } from '../../temporal.js';
import { formatDuration, overlapName } from './parse.js';
import type { When } from './when.js';

/** A schedule's description as JSON (dates as ISO strings). */
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
    recentActions: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
    runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
    numActionsTaken: d.info.numActionsTaken,
    numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
  };
}

export type ScheduleJson = ReturnType<typeof describeJson>;

export function describeLines(config: Config, d: ScheduleJson): string[] {
  const w = d.when;
  const input = d.action.input;
  const timing = w && (w.cron ? `cron "${w.cron}"` : `every ${formatDuration(w.everyMs ?? 0)}${w.offsetMs ? ` offset ${formatDuration(w.offsetMs)}` : ''}`);
  return [
    `schedule ${d.scheduleId}  ${d.paused ? 'PAUSED' : 'active'}${d.note ? ` (${d.note})` : ''}`,
    ...(input && d.action.workflowType === 'scoreWorkflow'
      ? [`  scores   ${input.model}${input.dataset ? ` on ${input.dataset}` : ''} with its champion, lake ${input.lake}`]
      : input
        ? [
            `  retrains ${input.model} on ${input.dataset} (${input.families.join(', ')}), ` +
              `${input.ingest ? 'ingesting new raw files first' : 'from the curated zone'}, lake ${input.lake}`,
          ]
        : []),
    ...(w ? [`  when     ${timing} in ${w.timezone}, jitter ${formatDuration(w.jitterMs)}`] : []),
    `  policies overlap ${d.policies.overlap}, catch-up window ${formatDuration(d.policies.catchupWindowMs)}, pause on failure ${d.policies.pauseOnFailure ? 'yes' : 'no'}`,
    `  next     ${d.nextActionTimes.slice(0, 3).join(', ') || '(none while paused)'}`,
    ...d.recentActions.map((a) => `  ran      ${a.takenAt} ${a.workflowId}`),
    ...d.runningWorkflows.map((id) => `  running  ${id}  ${workflowUrl(config, id)}`),
  ];
}
