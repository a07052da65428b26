/**
 * `carepipe schedule ...`: Temporal Schedules that start retrainWorkflow (cron or interval, time
 * zone, overlap policy, an explicit catch-up window, jitter, pause on failure). Scheduled runs
 * carry CarepipeTrigger=schedule and ids `retrain/<model>/<schedule id>-<scheduled time>`.
 * The schedule's own backfill (`schedule backfill`) replays the times it would have fired in a
 * past range, under a chosen overlap policy. One module per concern: parse (flag values), when
 * (timing and action), render (JSON and lines), and the subcommands.
 */
import type { Command } from 'commander';
import { COMMANDS } from '../../command-list.js';
import { addBackfill } from './backfill.js';
import { addCreate, addUpdate } from './create-update.js';
import { addDescribe, addList } from './read.js';
import { addDelete, addPauseAndUnpause } from './state.js';
import { addTrigger } from './trigger.js';

export function registerSchedule(program: Command): void {
  const schedule = program.command('schedule').description(COMMANDS.schedule);
  addCreate(schedule);
  addList(schedule);
  addDescribe(schedule);
  addPauseAndUnpause(schedule);
  addTrigger(schedule);
  addUpdate(schedule);
  addBackfill(schedule);
  addDelete(schedule);
}
