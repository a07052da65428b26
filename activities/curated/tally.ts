/** Each distinct value with how many times it occurs, sorted by value: what the zone-settings refusals print. */
export function tally(values: readonly string[]): [string, number][] {
  return [...values.reduce((m, v) => m.set(v, (m.get(v) ?? 0) + 1), new Map<string, number>())].sort();
}
