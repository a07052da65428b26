/**
 * FileStore's etags: the hex MD5 of an object's content, computed while it is written and kept
 * beside it in `.carepipe-etag.<name>` together with the identity of the file it describes
 * (inode, size, modification time in ns). A rename keeps all three, and every write makes a new
 * file, so a record whose identity matches the file is that file's etag; one that does not (the
 * file was replaced by something that did not write a record) is ignored and the file hashed
 * once more. Records are a cache: losing one costs a re-read, never a wrong answer, so they are
 * written without fsync.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RESERVED_NAME_PREFIX } from './store-keys.js';

interface EtagRecord {
  etag: string;
  ino: string;
  size: string;
  mtimeNs: string;
}

const identity = (s: BigIntStats) => ({ ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs) });
const sameFile = (r: EtagRecord, s: BigIntStats) =>
  r.ino === String(s.ino) && r.size === String(s.size) && r.mtimeNs === String(s.mtimeNs);

export function etagRecordPath(file: string): string {
  return join(dirname(file), `${RESERVED_NAME_PREFIX}etag.${basename(file)}`);
}

/** Records `etag` for the file `stats` describe (best effort: a name too long for a record is fine). */
export async function writeEtagRecord(file: string, stats: BigIntStats, etag: string): Promise<void> {
  const record: EtagRecord = { etag, ...identity(stats) };
  const target = etagRecordPath(file);
  const temp = join(dirname(file), `${RESERVED_NAME_PREFIX}tmp.${randomBytes(8).toString('hex')}`);
  try {
    await writeFile(temp, JSON.stringify(record));
    await rename(temp, target);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
}

export async function removeEtagRecord(file: string): Promise<void> {
  await unlink(etagRecordPath(file)).catch(() => undefined);
}

/**
 * Size, modification time and etag of one file, all of the same file (read through one handle);
 * undefined when there is no regular file at `file`.
 */
export async function describeFile(file: string): Promise<{ stats: BigIntStats; etag: string } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) return undefined;
    const recorded = await readEtagRecord(file, stats);
    if (recorded) return { stats, etag: recorded };
    const hash = createHash('md5');
    for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 })) hash.update(chunk as Buffer);
    const etag = hash.digest('hex');
    await writeEtagRecord(file, stats, etag);
    return { stats, etag };
  } finally {
    await handle.close();
  }
}

async function readEtagRecord(file: string, stats: BigIntStats): Promise<string | undefined> {
  try {
    const record = JSON.parse(await readFile(etagRecordPath(file), 'utf8')) as EtagRecord;
    return typeof record.etag === 'string' && sameFile(record, stats) ? record.etag : undefined;
  } catch {
    return undefined; // No record, or a torn one: the caller hashes the file instead.
  }
}
