/** What simulating a stay writes into: a leaf module, so stay.ts and stay-labs.ts need not import each other. */
import type { Calendar } from './calendar.js';
import type { RowEmitter } from './emitter.js';
import type { ProducerTiming } from './timing.js';

export interface StayEnv {
  calendar: Calendar;
  emitter: RowEmitter;
  timing: ProducerTiming;
}
