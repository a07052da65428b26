/**
 * The compaction state: which content of each day manifest the curated generations reflect.
 * Merged by conditional writes, so two compactions finishing together both land.
 */
import { PreconditionFailedError, TransientError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { CURATION_VERSION } from '../ingest/ingest-file.js';
import type { ObjectStore } from '../io/object-store.js';
import { getJson } from './store-json.js';

export interface CompactionState {
  bucketCount: number;
  pseudonymKeyId: string | null;
  curationVersion: string;
  /** Per day manifest key: the etag and SHA-256 its content had when it was compacted. */
  days: Record<string, { etag: string; sha256: string }>;
}

export const readCompactionState = (store: ObjectStore) => getJson<CompactionState>(store, lake.compactionState());

/** Conditional writes lost to other compactions before giving up (the activity is then retried). */
const MAX_RACES = 8;

/**
 * Merges days (as planned: etag and SHA-256; an empty SHA-256 means the day manifest is gone)
 * into the state. A state of another bucket count or curation version is replaced: its days
 * describe generations this zone no longer uses.
 */
export async function recordCompacted(
  store: ObjectStore,
  done: { bucketCount: number; pseudonymKeyId: string; days: CompactionState['days'] },
): Promise<CompactionState> {
  const key = lake.compactionState();
  for (let race = 0; race < MAX_RACES; race++) {
    const info = await store.head(key);
    const current = info ? await getJson<CompactionState>(store, key) : null;
    const same = current && current.bucketCount === done.bucketCount && current.curationVersion === CURATION_VERSION;
    const days = { ...(same ? current.days : {}) };
    for (const [day, v] of Object.entries(done.days)) {
      if (v.sha256 === '') delete days[day];
      else days[day] = v;
    }
    const next: CompactionState = { bucketCount: done.bucketCount, pseudonymKeyId: done.pseudonymKeyId, curationVersion: CURATION_VERSION, days };
    const sorted = { ...next, days: Object.fromEntries(Object.entries(next.days).sort(([a], [b]) => (a < b ? -1 : 1))) };
    try {
      await store.put(key, JSON.stringify(sorted) + '\n', info ? { ifMatch: info.etag } : { ifNoneMatch: '*' });
      return sorted;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }
  throw new TransientError(`compaction: lost ${MAX_RACES} races to update ${key}; retried`);
}
