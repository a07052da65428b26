/**
 * The values a schedule's flags carry, each parsed by a commander argParser (cli/options.ts
 * `refuse` makes a refusal a one-line usage error naming the flag and the value), and the
 * recorded shape of a schedule's timing.
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
// The SDK's own reader of Duration strings (the `ms` format); its index re-exports it only as deprecated.
import { msToNumber } from '@temporalio/common/lib/time.js';
import { isIngestDate } from '../../../data-lake/layout.js';
import { refuse } from '../../options.js';

export const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};
export const OVERLAP_NAMES = Object.keys(OVERLAP);

export function overlapName(policy: ScheduleOverlapPolicy | undefined): string {
  return Object.entries(OVERLAP).find(([, p]) => p === policy)?.[0] ?? 'skip';
}

/**
 * A duration flag in the SDK's Duration string format (`90s`, `15m`, `1.5h`, `1d`, `2 days`), read
 * by the function the SDK reads a Duration with, so `--every 6h` means what `every: '6h'` means to
 * it. A bare number, which that format reads as milliseconds, is refused: `--jitter 5` is far
 * likelier to mean minutes or seconds than 5 ms.
 */
export function durationMs(flag: string, min = 0): (value: string) => number {
  return (value) => {
    let ms = NaN;
    try {
      if (/[a-z]/i.test(value)) ms = msToNumber(value as Duration);
    } catch {
      // refused below, with the flag's name
    }
    if (!Number.isFinite(ms)) refuse(`${flag} must be a duration with a unit, such as 90s, 15m, 6h or 1d, got "${value}"`);
    if (ms < min) refuse(`${flag} must be at least ${formatDuration(min)}, got "${value}"`);
    return ms;
  };
}

/** The shortest exact spelling: 1d, 6h, 30m, else seconds (or milliseconds). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return ms === 0 ? '0s' : `${ms}ms`;
}

export function checkTimezone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    refuse(`--timezone must be an IANA time zone name such as UTC or Europe/Berlin, got "${tz}"`);
  }
  return tz;
}

export function checkCron(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  if (!(cron.trim().startsWith('@') || (fields.length >= 5 && fields.length <= 7))) {
    refuse(`--cron must have 5 to 7 fields (minute hour day-of-month month day-of-week) or be @daily, @hourly, ..., got "${cron}"`);
  }
  return cron.trim();
}

export function checkScheduleId(id: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(id)) refuse(`the schedule id must be 1-63 characters of a-z, 0-9, '.', '_' and '-', got "${id}"`);
  return id;
}

/** A point in time as given (for messages) and as read. */
export interface Instant {
  text: string;
  at: Date;
}

/** YYYY-MM-DD (the start of that UTC day; with endOfDay, its last millisecond) or an ISO timestamp. */
export function instant(flag: string, endOfDay: boolean): (value: string) => Instant {
  return (value) => {
    if (isIngestDate(value)) return { text: value, at: new Date(Date.parse(`${value}T00:00:00Z`) + (endOfDay ? 86_400_000 - 1 : 0)) };
    const t = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
    if (Number.isNaN(t)) refuse(`${flag} must be a date YYYY-MM-DD or an ISO timestamp, got "${value}"`);
    return { text: value, at: new Date(t) };
  };
}
