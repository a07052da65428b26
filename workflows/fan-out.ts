/**
 * The sliding window the workflows fan out with, and the check that ends a run before its history
 * grows long: a fan-out over thousands of shards runs as a chain of runs (continue-as-new), each
 * starting shards only while its history has room for every shard it may still have in flight.
 */
import { workflowInfo } from '@temporalio/workflow';
import { mapBounded } from '../core/map-bounded.js';

export { mapBounded };

/** History length past which a long fan-out continues as new (Temporal warns at 10k events). */
export const HISTORY_EVENTS_BEFORE_CONTINUE = 4_000;

/**
 * The most events one item of a fan-out adds to its parent's history: an activity's scheduled,
 * started and completed events, or a child's initiated, started and completed, each completion
 * (and a child's start) with the workflow task it wakes (scheduled, started, completed).
 */
export const EVENTS_PER_ITEM = 10;

/** Events a run still needs once it stops starting items: the last workflow task and the continue-as-new. */
const CLOSING_EVENTS = 20;

/**
 * Whether a run should start no more items: the server suggests continuing as new, or the history
 * with what `inFlight` items may still add would pass `limit`. Deterministic: `historyLength` is
 * the history as of the current workflow task, the same on replay.
 */
export function historyFull(limit: number, inFlight: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength + inFlight * EVENTS_PER_ITEM + CLOSING_EVENTS >= limit;
}

/**
 * Runs `fn` over `items` from index `start` with at most `maxInFlight` in flight (a sliding
 * window, as mapBounded), but starts no item once the history is full (`historyFull`), and
 * returns when the items it started are done: the index of the first item not started
 * (`items.length` when all ran). Items start in order, so `[start, returned)` all completed; the
 * caller continues as new from there, and each run's history stays under `limit`.
 */
export async function mapUntilHistoryFull<T>(
  items: readonly T[],
  start: number,
  maxInFlight: number,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<number> {
  let next = start;
  const lane = async (): Promise<void> => {
    // The run's first item starts whatever the history, so a limit too small for the window still progresses.
    while (next < items.length && (next === start || !historyFull(limit, maxInFlight))) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(maxInFlight, items.length - start)) }, lane));
  return next;
}
