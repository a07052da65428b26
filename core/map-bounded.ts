/**
 * Runs `fn` over `items` with at most `limit` in flight: a sliding window, so one slow item does
 * not hold up a whole batch; results keep the items' order. Pure (no I/O, no Node builtins), so
 * workflows (where completions replay from history) and activities share it.
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
