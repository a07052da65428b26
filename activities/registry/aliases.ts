/**
 * Aliases (champion) are small JSON documents moved by conditional writes: create-if-absent for
 * the first, replace-if-unchanged (ETag) after, so of two promotions racing exactly one wins.
 */
import { PreconditionFailedError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';

export interface AliasDocument {
  version: string;
  previous: string | null;
  movedAt: string;
  /** The subject of the identity that moved it (core/identity/): a person or service, never a workflow id. */
  movedBy: string;
}

export interface AliasState {
  doc: AliasDocument | null;
  etag: string | null;
}

export async function readAlias(store: ObjectStore, model: string, alias = 'champion'): Promise<AliasState> {
  const key = lake.alias(model, alias);
  const info = await store.head(key);
  if (!info) return { doc: null, etag: null };
  const doc = JSON.parse(new TextDecoder().decode(await store.get(key))) as AliasDocument;
  // Re-check the etag after reading: a move between head and get would pair the wrong etag with the doc.
  const after = await store.head(key);
  if (after?.etag !== info.etag) throw new PreconditionFailedError(`${key} changed while it was read`);
  return { doc, etag: info.etag };
}

/** Moves the alias from `expected` (as read) to `version`; throws PreconditionFailedError if someone moved it first. */
export async function moveAlias(
  store: ObjectStore,
  model: string,
  expected: AliasState,
  version: string,
  movedBy: string,
  alias = 'champion',
): Promise<AliasDocument> {
  const doc: AliasDocument = { version, previous: expected.doc?.version ?? null, movedAt: new Date().toISOString(), movedBy };
  const body = JSON.stringify(doc, null, 2) + '\n';
  await store.put(lake.alias(model, alias), body, expected.etag === null ? { ifNoneMatch: '*' } : { ifMatch: expected.etag });
  return doc;
}
