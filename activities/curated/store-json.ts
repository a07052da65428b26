import { NotFoundError } from '../../core/errors.js';
import type { ObjectStore } from '../io/object-store.js';

/** A JSON object, or null when absent: one request (a GET), where readJson makes two (HEAD, GET). */
export async function getJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
