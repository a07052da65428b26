/**
 * Where simulated time meets ingest dates. Ingest date k (0-based) holds what ended on the day
 * before it; the first ingest date also holds the initial load of `historyDays` of history. The
 * data end at the cutoff, midnight UTC starting the last ingest date: nothing is admitted after
 * it, and a stay still open at the cutoff is sent with a null discharge on the last ingest date.
 */
import type { GeneratorOptions } from './options.js';
import { DAY_MS } from './risk.js';

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

  /** YYYY-MM-DD of ingest date `day`. */
  ingestDate(day: number): string {
    return new Date(this.firstIngestMs + day * DAY_MS).toISOString().slice(0, 10);
  }

  /** Days since 1970-01-01 of the instant (UTC), as date32 counts them. */
  static epochDay(ms: number): number {
    return Math.floor(ms / DAY_MS);
  }
}
