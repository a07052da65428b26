/**
 * `schedule trigger`: starts the schedule's retrain (or batch scoring) now and, like every command that starts a
 * run (cli/run-workflow.ts), follows it to its end unless --no-wait.
 */
import type { ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import type { retrainWorkflow } from '../../../workflows/index.js';
import { action, RunFailedError } from '../../output.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../../run-workflow.js';
import { probeRetrain } from '../../runs.js';
import type { ScoreResult } from '../../../schemas/score.js';
import { retrainFailure, retrainReport } from '../retrain.js';
import { scoreReport } from '../score.js';
import { scheduleNotFound } from './client.js';
import { overlapOption, type PolicyOptions } from './options.js';
import { OVERLAP } from './parse.js';

interface TriggerOptions extends RunFlags, Pick<PolicyOptions, 'overlap'> {
  id: string;
}

/** The run a trigger started: the first recent action not there before it (the server takes the start asynchronously). */
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

export const triggerRun: RunCommand<TriggerOptions, { id: string; overlap?: ScheduleOverlapPolicy }, typeof retrainWorkflow> = {
  input: (opts) => ({ id: opts.id, ...(opts.overlap !== undefined ? { overlap: OVERLAP[opts.overlap] } : {}) }),
  async start(client, config, { id, overlap }) {
    const schedule = client.schedule.getHandle(id);
    try {
      const before = new Set((await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId));
      await schedule.trigger(overlap);
      const workflowId = await newActionAfter(schedule, before);
      if (!workflowId)
        throw new RunFailedError(
          `schedule ${id} started no run: under its overlap policy a run still going takes precedence (see \`carepipe schedule describe ${id}\`)`,
        );
      return { handle: client.workflow.getHandle<typeof retrainWorkflow>(workflowId), json: { scheduleId: id } };
    } catch (err) {
      throw scheduleNotFound(err, config);
    }
  },
  // A score schedule's run (`schedule create --workflow score`) has no progress query and its own report.
  probe: async (client, workflowId) => (workflowId.startsWith('score/') ? undefined : probeRetrain(client, workflowId)),
  report: (result) => ('manifestKey' in result ? scoreReport(result as unknown as ScoreResult) : retrainReport(result)),
  failure: retrainFailure,
};

export function addTrigger(schedule: Command): void {
  addRunFlags(
    schedule
      .command('trigger <id>')
      .description("start the schedule's retrain now and follow it to its end (--no-wait: return once it has started)")
      .addOption(overlapOption("overlap policy for this start; default the schedule's own"))
      // Accepted for scripts written when trigger returned at once unless told to wait; waiting is now the default.
      .option('--wait', 'follow the run to its end (the default)'),
  ).action(action((id: string, opts: Omit<TriggerOptions, 'id'>) => runWorkflowCommand(triggerRun, { ...opts, id })));
}
