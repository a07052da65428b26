/** `schedule list` and `schedule describe`: what is scheduled, read from the server. */
import type { Command } from 'commander';
import { WORKFLOW_TYPES } from '../../../schemas/names.js';
import { SA_MODEL } from '../../../schemas/search-attributes.js';
import { action, printJson, say } from '../../output.js';
import { withClient } from './client.js';
import { describeJson, describeLines } from './render.js';

export function addList(schedule: Command): void {
  schedule
    .command('list')
    .description('the schedules of this namespace that start retrainWorkflow')
    .option('--model <name>', 'only schedules of this model')
    .option('--json', 'print them as JSON')
    .action(
      action(async (opts: { model?: string; json?: boolean }) =>
        withClient(async (client) => {
          const rows: {
            scheduleId: string;
            paused: boolean;
            note: string | null;
            model: string | null;
            nextActionTimes: string[];
            lastWorkflowId: string | null;
          }[] = [];
          const query = opts.model ? `${SA_MODEL.name} = "${opts.model.replace(/"/g, '')}"` : undefined;
          for await (const s of client.schedule.list(query ? { query } : {})) {
            if (s.action?.workflowType !== WORKFLOW_TYPES.retrain) continue;
            const last = s.info.recentActions.at(-1);
            rows.push({
              scheduleId: s.scheduleId,
              paused: s.state.paused,
              note: s.state.note ?? null,
              model: s.typedSearchAttributes?.get(SA_MODEL) ?? null,
              nextActionTimes: s.info.nextActionTimes.map((t) => t.toISOString()),
              lastWorkflowId: last?.action.workflow.workflowId ?? null,
            });
          }
          if (opts.json) return printJson(rows);
          if (rows.length === 0) return say('no retrain schedules');
          for (const r of rows)
            say(
              `${r.scheduleId}  ${r.paused ? 'PAUSED' : 'active'}  model ${r.model ?? '?'}  next ${r.nextActionTimes[0] ?? '-'}  last ${r.lastWorkflowId ?? '-'}`,
            );
        }),
      ),
    );
}

export function addDescribe(schedule: Command): void {
  schedule
    .command('describe <id>')
    .description("a schedule's timing, policies, state, next starts and recent runs")
    .option('--json', 'print it as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }) =>
        withClient(async (client, config) => {
          const d = describeJson(await client.schedule.getHandle(id).describe());
          if (opts.json) return printJson(d);
          for (const line of describeLines(config, d)) say(line);
        }),
      ),
    );
}
