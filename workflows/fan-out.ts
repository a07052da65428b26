/**
 * Runs `fn` over `items` with at most `limit` in flight: a sliding window, so one slow shard does
 * not hold up a whole batch. Deterministic in a workflow: completions are replayed from history.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/** History length past which a long fan-out continues as new (Temporal warns at 10k events). */
export const HISTORY_EVENTS_BEFORE_CONTINUE = 4_000;
