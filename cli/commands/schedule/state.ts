/** `schedule pause`, `schedule unpause` and `schedule delete`: a schedule's state; runs it started go on. */
import type { Command } from 'commander';
import { action, printJson, say } from '../../output.js';
import { withClient } from './client.js';
import { describeJson } from './render.js';

export function addPauseAndUnpause(schedule: Command): void {
  for (const [verb, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    schedule
      .command(`${verb} <id>`)
      .description(paused ? 'stop starting runs (running ones go on)' : 'start runs again')
      .option('--note <text>', 'why (shown with the schedule)')
      .option('--json', 'print the schedule as JSON')
      .action(
        action(async (id: string, opts: { note?: string; json?: boolean }) =>
          withClient(async (client) => {
            const handle = client.schedule.getHandle(id);
            const note = opts.note ?? `${paused ? 'paused' : 'unpaused'} with carepipe schedule ${verb}`;
            if (paused) await handle.pause(note);
            else await handle.unpause(note);
            const d = describeJson(await handle.describe());
            if (opts.json) return printJson(d);
            say(`${id} ${d.paused ? 'paused' : 'active'}: ${d.note ?? ''}`);
          }),
        ),
      );
  }
}

export function addDelete(schedule: Command): void {
  schedule
    .command('delete <id>')
    .description('delete a schedule (runs it started go on)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, opts: { json?: boolean }) =>
        withClient(async (client) => {
          await client.schedule.getHandle(id).delete();
          if (opts.json) return printJson({ scheduleId: id, deleted: true });
          say(`deleted schedule ${id}`);
        }),
      ),
    );
}
