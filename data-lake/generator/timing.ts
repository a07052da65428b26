/**
 * How the producer times and dates what it sends, beyond the default assumptions (every row lands
 * on the ingest date after it happened, discharges in the daytime, lab rounds in the morning): the
 * knobs `sentAtAdmissionRate` and `eveningRate` (options.ts). The contract allows both: times are
 * UTC instants, not judged against the file's date. They draw from the patient's own timing
 * stream, so with both at 0 the clinical stream, and so the whole lake, is what it was without them.
 */
import type { Calendar } from './calendar.js';
import type { GeneratorOptions } from './options.js';
import { Rng } from './prng.js';
import { DAY_MS, HOUR_MS } from './risk.js';

export const TIMING_STREAM = 5;

/** Late evening in New York (UTC-5), 19:30 to 23:30 local: 00:30 to 04:30 UTC of the next day. */
const EVENING_FROM_HOURS = 24.5;
const EVENING_TO_HOURS = 28.5;

export class ProducerTiming {
  private rng = new Rng(0);

  constructor(
    private readonly calendar: Calendar,
    private readonly knobs: Pick<GeneratorOptions, 'sentAtAdmissionRate' | 'eveningRate'>,
    private readonly seed: number,
  ) {}

  beginPatient(index: number): void {
    this.rng = Rng.derive(this.seed, index, TIMING_STREAM);
  }

  /** Whether the next event falls late in the local evening (the evening knob). */
  isEvening(): boolean {
    return this.rng.bernoulli(this.knobs.eveningRate);
  }

  /** An instant late in the local evening of the UTC date of `ms`, so always later than `ms`. */
  eveningOf(ms: number): number {
    return Math.floor(ms / DAY_MS) * DAY_MS + Math.round(this.rng.uniform(EVENING_FROM_HOURS, EVENING_TO_HOURS) * HOUR_MS);
  }

  /** Whether a closed encounter is sent whole on its admission's local date (the sent-at-admission knob). */
  sentAtAdmission(): boolean {
    return this.rng.bernoulli(this.knobs.sentAtAdmissionRate);
  }

  /**
   * The ingest date a row about an event at `ms` lands on: the day after (the default), or for an
   * evening event the producer's local date of that evening, the day before the event's UTC date.
   */
  landing(ms: number, evening: boolean): number {
    return evening ? this.calendar.localDay(ms) : this.calendar.landingDay(ms);
  }
}
