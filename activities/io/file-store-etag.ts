/**
 * FileStore's etags, read from what the file system keeps for every file: `<inode>-<size>-<mtime
 * in ns>`, in hex. The store keeps no file of its own per object (issue 12: such records doubled
 * the object count of a lake and sat where other engines glob), and reads no content to make a
 * tag, so listing a zone costs one stat a file, however large the files are.
 *
 * An etag is an opaque version tag, as S3's is (S3's is no MD5 for a multipart upload either):
 * equal tags mean the same version of an object, and nothing may read more into one. A caller
 * that needs to know two objects hold the same bytes hashes them itself.
 *
 * Why the tag names one version. Every FileStore write stages a new file and renames (or links)
 * it into place, so each version of a key is its own inode and a rename keeps all three fields.
 * Two versions of a key can still meet in all three: ext4 hands a freed inode straight back (a
 * key rewritten in a loop alternates between two inode numbers), and a kernel before 6.13 stamps
 * mtime from a clock that moves once a tick (1-10 ms). So every commit, taken under the key's
 * lock (file-store-lock.ts), makes the new version's mtime later than the version it replaces
 * (`stampLaterThan`): along the versions of a key, one after another, mtimes strictly increase
 * and no tag comes back. A rewrite with identical bytes therefore gets a new tag, where S3 keeps
 * the ETag of identical content: an `ifMatch` on the old tag loses, which is the safe answer for
 * a compare-and-swap (the alias documents, registry/aliases.ts). Not covered: a key deleted and
 * written again may, within one clock tick and on a reused inode, come back with the tag of the
 * deleted version (carepipe never deletes an object it compare-and-swaps); and a file replaced
 * behind the store's back keeps whatever the file system gives it (in place, same size, same
 * tick: the old tag).
 */
import type { BigIntStats } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';

/** The etag of the file `stats` describe. */
export function fileEtag(stats: BigIntStats): string {
  return `${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}`;
}

/** The stats of the regular file at `path` (symbolic links followed); undefined when there is none. */
export async function statFile(path: string): Promise<BigIntStats | undefined> {
  try {
    const stats = await stat(path, { bigint: true });
    return stats.isFile() ? stats : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Sets the mtime of the staged file `handle` later than `previousNs` when it is not already, and
 * returns its stats. Node passes times as seconds in a double (a step of about 240 ns today), so
 * the result is read back and pushed further until it is later.
 */
export async function stampLaterThan(handle: FileHandle, staged: BigIntStats, previousNs: bigint): Promise<BigIntStats> {
  let stats = staged;
  for (let stepNs = 1_000n; stats.mtimeNs <= previousNs; stepNs *= 2n) {
    await handle.utimes(nsToSeconds(stats.atimeNs), nsToSeconds(previousNs + stepNs));
    stats = await handle.stat({ bigint: true });
  }
  return stats;
}

function nsToSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}
