/** The flags of `schedule create` and `schedule update` (update: no defaults, so absent means unchanged). */
import { type Command, Option } from 'commander';
import { type SharedOptionValues, options } from '../../options.js';
import { checkCron, checkTimezone, durationMs, OVERLAP_NAMES } from './parse.js';
import type { WhenOptions } from './when.js';

export interface PolicyOptions {
  overlap?: string;
  catchupWindow?: number;
  pauseOnFailure?: boolean;
}
export type ScheduleFlags = WhenOptions & PolicyOptions & Partial<Omit<SharedOptionValues, 'lake'>> & { lake?: string; ingest?: boolean; json?: boolean };

export const overlapOption = (description: string) => new Option('--overlap <policy>', description).choices(OVERLAP_NAMES);

export function addWhenAndPolicyOptions(cmd: Command, withDefaults: boolean): Command {
  const byDefault = (text: string) => (withDefaults ? ` (default ${text})` : '');
  return cmd
    .option('--cron <expression>', 'cron expression, e.g. "0 2 * * *" (minute hour day-of-month month day-of-week)', checkCron)
    .option('--every <duration>', 'interval instead of cron: 30m, 6h, 1d', durationMs('--every', 1_000))
    .option('--offset <duration>', 'phase of --every, e.g. 2h with --every 1d: 02:00 each day', durationMs('--offset'))
    .option('--timezone <tz>', `IANA time zone of the cron fields${byDefault('UTC')}`, checkTimezone)
    .option('--jitter <duration>', `random delay added to each start, e.g. 5m${byDefault('0s')}`, durationMs('--jitter'))
    .addOption(overlapOption(`when a run is still going at the next start${byDefault('skip')}`))
    .option('--catchup-window <duration>', `how late a start missed while Temporal was down may still run${byDefault('1h')}`, durationMs('--catchup-window'))
    .option('--pause-on-failure', withDefaults ? 'pause the schedule when a run fails (the default)' : 'pause the schedule when a run fails')
    .option('--no-pause-on-failure', 'keep starting runs after a failed one');
}

export function addRetrainOptions(cmd: Command, withDefaults: boolean): Command {
  return cmd
    .addOption(options.lake('lake URI; default CAREPIPE_LAKE'))
    .addOption(options.model('registry model name', withDefaults))
    .addOption(options.dataset(withDefaults))
    .addOption(options.families('comma-separated model families', withDefaults))
    .addOption(options.buckets(withDefaults))
    .option('--ingest', withDefaults ? 'ingest new raw files first (the default)' : 'ingest new raw files first')
    .option('--no-ingest', 'train on the curated zone as it is');
}
