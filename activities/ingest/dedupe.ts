import type { CuratedColumn } from './columns.js';
import type { Normalized } from './tables/common.js';

/**
 * Within one file, keeps the last row of each primary key and rejects the earlier ones
 * (`duplicate_key_in_file`): a producer re-sending a row in the same extract. Corrections across
 * files are resolved later, by ingest date then file name, when a bucket is reduced.
 */
export function rejectDuplicateKeys(n: Normalized): number {
  const keyColumns = n.primaryKey.map((name) => n.columns.find((c) => c.name === name)) as CuratedColumn[];
  const rows = n.verdicts.n;
  // Each row's key once: a single-column key is its value (every curated table's key is one column).
  const keys: unknown[] = new Array(rows);
  for (let row = 0; row < rows; row++) {
    keys[row] = keyColumns.length === 1 ? keyColumns[0]!.values[row] : keyColumns.map((c) => String(c.values[row])).join('\u0001');
  }
  const last = new Map<unknown, number>();
  for (let row = 0; row < rows; row++) if (n.verdicts.ok(row)) last.set(keys[row], row);
  let rejected = 0;
  for (let row = 0; row < rows; row++) {
    if (n.verdicts.ok(row) && last.get(keys[row]) !== row) {
      n.verdicts.reject(row, 'duplicate_key_in_file');
      rejected++;
    }
  }
  return rejected;
}
