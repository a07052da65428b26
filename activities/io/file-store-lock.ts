/**
 * Per-key exclusive locks for FileStore, shared by every process on the machine: a lock is the
 * file `<root>/.carepipe-locks/<sha256(key)>.lock`, created whole and atomically with link(2)
 * (which fails with EEXIST when another writer holds it), holding its owner's host, pid and a
 * random token. Node has no flock(), and a lock file is what works on any local filesystem.
 *
 * A lock is held only for the commit of a write (compare etag, rename or link into place):
 * bodies are staged before it is taken, so it is held for milliseconds.
 *
 * Stale locks, left by a process killed in that window, are broken when their owner is known to
 * be gone: on this host, when its pid no longer exists; from another host (a shared mount), when
 * the lock is older than `staleAfterMs`. Breaking renames the lock aside and checks it was the
 * stale one (same token); if a live lock was caught instead it is linked back. What this cannot
 * exclude: a third writer taking the lock in the instant between that rename and the link back,
 * which needs a dead owner and three writers on one key at once; or an owner on another host
 * stalled for longer than `staleAfterMs` in the middle of its commit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../core/errors.js';
/**
 * Beside the `.carepipe/` tree rather than in it: a worker of an earlier version, still running on
 * the same lake during an upgrade, takes its locks here, and both must exclude each other.
 */
export const LOCK_DIR = '.carepipe-locks';

export interface LockOptions {
  /** How long to wait for a live owner before failing with TransientError. */
  waitMs?: number;
  /** Age after which a lock owned by another host counts as abandoned. */
  staleAfterMs?: number;
}

interface LockRecord {
  host: string;
  pid: number;
  token: string;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

export function lockPath(root: string, key: string): string {
  return join(root, LOCK_DIR, `${createHash('sha256').update(key).digest('hex')}.lock`);
}

/** Runs `fn` while holding the lock on `key`. */
export async function withKeyLock<T>(root: string, key: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const path = lockPath(root, key);
  const me: LockRecord = { host: hostname(), pid: process.pid, token: randomBytes(12).toString('hex') };
  await acquire(path, me, options.waitMs ?? 30_000, options.staleAfterMs ?? 60_000);
  try {
    return await fn();
  } finally {
    await release(path, me.token);
  }
}

async function acquire(path: string, me: LockRecord, waitMs: number, staleAfterMs: number): Promise<void> {
  const staged = `${path}.${me.token}`;
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(staged, JSON.stringify(me), { mode: 0o600 });
  try {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await link(staged, path);
        return;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      const owner = await readOwner(path);
      if (owner === 'gone') continue;
      if (await isStale(path, owner, staleAfterMs)) {
        await breakLock(path, owner, me.token);
        continue;
      }
      if (Date.now() - started > waitMs) {
        throw new TransientError(`Lock ${path} is still held by pid ${owner?.pid ?? '?'} on ${owner?.host ?? '?'} after ${waitMs} ms: worth retrying.`);
      }
      await sleep(Math.min(50, 1 << Math.min(attempt, 6)));
    }
  } finally {
    await unlink(staged).catch(() => undefined);
  }
}

/** The lock's record, undefined when unreadable, 'gone' when it vanished meanwhile. */
async function readOwner(path: string): Promise<LockRecord | undefined | 'gone'> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockRecord;
  } catch (err) {
    return errno(err) === 'ENOENT' ? 'gone' : undefined;
  }
}

async function isStale(path: string, owner: LockRecord | undefined, staleAfterMs: number): Promise<boolean> {
  if (owner && owner.host === hostname()) return !pidAlive(owner.pid);
  try {
    return Date.now() - (await stat(path)).mtimeMs > staleAfterMs;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

async function breakLock(path: string, stale: LockRecord | undefined, myToken: string): Promise<void> {
  const aside = `${path}.broken-${myToken}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  const caught = await readOwner(aside);
  const wasStale = stale === undefined ? caught === undefined : caught !== 'gone' && caught?.token === stale.token;
  if (!wasStale) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function release(path: string, token: string): Promise<void> {
  const owner = await readOwner(path);
  if (owner !== 'gone' && owner?.token === token) await unlink(path).catch(() => undefined);
}
