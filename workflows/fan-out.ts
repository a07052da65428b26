/** The sliding window the workflows fan out with (shared with activities). */
export { mapBounded } from '../core/map-bounded.js';

/** History length past which a long fan-out continues as new (Temporal warns at 10k events). */
export const HISTORY_EVENTS_BEFORE_CONTINUE = 4_000;
