import { parseRawKey, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import type { RawFilePage } from '../../schemas/workflows.js';
import type { ActivityDeps } from '../context.js';

export interface ListRawFilesInput {
  lake: string;
  from?: string;
  to?: string;
  tables?: RawTable[];
  /** Only keys after this one (exclusive), in key order. */
  startAfter: string;
  limit: number;
}

export function inRange(date: string, from: string | undefined, to: string | undefined): boolean {
  return (from === undefined || date >= from) && (to === undefined || date <= to);
}

/** One page of raw Parquet files in the date range, in key order. Other files are not raw data and are left alone. */
export async function listRawFiles(deps: ActivityDeps, input: ListRawFilesInput): Promise<RawFilePage> {
  const store = deps.lake(input.lake);
  const tables = new Set<RawTable>(input.tables ?? RAW_TABLES);
  const keys: string[] = [];
  for await (const obj of store.list('raw/')) {
    if (obj.key <= input.startAfter) continue;
    const parts = parseRawKey(obj.key);
    if (!parts || !tables.has(parts.table) || !inRange(parts.date, input.from, input.to)) continue;
    if (!parts.fileName.endsWith('.parquet')) continue;
    if (keys.length === input.limit) return { keys, nextStartAfter: keys[keys.length - 1]! };
    keys.push(obj.key);
  }
  return { keys };
}
