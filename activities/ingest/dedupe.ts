import type { CuratedColumn } from './columns.js';
import type { Normalized } from './tables/common.js';

/**
 * Within one file, keeps the last row of each primary key and rejects the earlier ones
 * (`duplicate_key_in_file`): a producer re-sending a row in the same extract. Corrections across
 * files are resolved later, by ingest date then file name, when a bucket is reduced.
 */
export function rejectDuplicateKeys(n: Normalized): number {
  const keyColumns = n.primaryKey.map((name) => n.columns.find((c) => c.name === name)) as CuratedColumn[];
  const last = new Map<string, number>();
  const rows = n.verdicts.n;
  const keyOf = (row: number) => keyColumns.map((c) => String(c.values[row])).join('\u0001');
  for (let row = 0; row < rows; row++) if (n.verdicts.ok(row)) last.set(keyOf(row), row);
  let rejected = 0;
  for (let row = 0; row < rows; row++) {
    if (n.verdicts.ok(row) && last.get(keyOf(row)) !== row) {
      n.verdicts.reject(row, 'duplicate_key_in_file');
      rejected++;
    }
  }
  return rejected;
}
