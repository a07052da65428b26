/**
 * Where simulated time meets ingest dates. Ingest date k (0-based) holds what ended on the day
 * before it; the first ingest date also holds the initial load of `historyDays` of history. The
 * data end at the cutoff, midnight UTC starting the last ingest date: nothing is admitted after
 * it, and a stay still open at the cutoff is sent with a null discharge on the last ingest date.
 * Ingest dates are the producer's calendar days; for rows it sends the same (local) day
 * (timing.ts) that calendar is a US hospital's, PRODUCER_UTC_OFFSET_HOURS from UTC.
 */
import type { GeneratorOptions } from './options.js';
import { DAY_MS, HOUR_MS } from './risk.js';

/** The producer's local time, New York standard time (no daylight saving: one offset all year). */
export const PRODUCER_UTC_OFFSET_HOURS = -5;

export class Calendar {
  /** Midnight UTC of the first ingest date. */
  readonly firstIngestMs: number;
  /** Midnight UTC of the last ingest date: the end of simulated time. */
  readonly cutoffMs: number;
  /** The start of simulated time. */
  readonly clinicalStartMs: number;
  readonly lastDay: number;

  constructor(options: Pick<GeneratorOptions, 'startDate' | 'days' | 'historyDays'>) {
    this.firstIngestMs = Date.parse(`${options.startDate}T00:00:00Z`);
    this.lastDay = options.days - 1;
    this.cutoffMs = this.firstIngestMs + this.lastDay * DAY_MS;
    this.clinicalStartMs = this.firstIngestMs - (options.historyDays + 1) * DAY_MS;
  }

  /** Index of the ingest date on which something that ended (or was observed) at `ms` lands. */
  landingDay(ms: number): number {
    const day = Math.floor((ms - this.firstIngestMs) / DAY_MS) + 1;
    return Math.min(this.lastDay, Math.max(0, day));
  }

  /** Index of the ingest date named by the producer's local date of `ms`: where a row sent the same day lands. */
  localDay(ms: number): number {
    const day = Math.floor((ms + PRODUCER_UTC_OFFSET_HOURS * HOUR_MS - this.firstIngestMs) / DAY_MS);
    return Math.min(this.lastDay, Math.max(0, day));
  }

  /** YYYY-MM-DD of ingest date `day`. */
  ingestDate(day: number): string {
    return new Date(this.firstIngestMs + day * DAY_MS).toISOString().slice(0, 10);
  }

  /** Days since 1970-01-01 of the instant (UTC), as date32 counts them. */
  static epochDay(ms: number): number {
    return Math.floor(ms / DAY_MS);
  }
}
