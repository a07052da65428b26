/** `schedule backfill`: the schedule's own backfill, one retrain per time it would have fired in a past range. */
import type { Command } from 'commander';
import { ConfigError } from '../../../core/errors.js';
import { action, printJson, say } from '../../output.js';
import { withClient } from './client.js';
import { overlapOption } from './options.js';
import { type Instant, instant, OVERLAP, overlapName } from './parse.js';

export function addBackfill(schedule: Command): void {
  schedule
    .command('backfill <id>')
    .description('run the schedule over a past range: one retrain per time it would have fired')
    .requiredOption('--from <time>', "start: YYYY-MM-DD (that day's 00:00 UTC) or an ISO timestamp", instant('--from', false))
    .requiredOption('--to <time>', "end: YYYY-MM-DD (that day's end, UTC) or an ISO timestamp", instant('--to', true))
    .addOption(overlapOption('overlap policy for the backfilled starts').default('buffer-all'))
    .option('--json', 'print what was requested as JSON')
    .action(
      action(async (id: string, opts: { from: Instant; to: Instant; overlap: string; json?: boolean }) => {
        const [start, end] = [opts.from.at, opts.to.at];
        if (start >= end) throw new ConfigError(`--from (${opts.from.text}) must be before --to (${opts.to.text})`);
        const overlap = OVERLAP[opts.overlap];
        await withClient(async (client) => {
          await client.schedule.getHandle(id).backfill({ start, end, overlap });
          const out = { scheduleId: id, start: start.toISOString(), end: end.toISOString(), overlap: overlapName(overlap) };
          if (opts.json) return printJson(out);
          say(`backfilling ${id} from ${out.start} to ${out.end} (overlap ${out.overlap}); watch it with \`carepipe schedule describe ${id}\``);
        });
      }),
    );
}
