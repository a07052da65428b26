/**
 * ObjectStore over a local folder (`file:///abs/path`), with S3's guarantees where carepipe
 * relies on them:
 * - a write is atomic: the body is staged in a temp file in the object's own folder, fsynced,
 *   then renamed into place (or linked, for create-only), and the folder fsynced;
 * - conditional writes are atomic with respect to every other carepipe writer (also in other
 *   processes): every commit (compare, then rename or link) happens under the key's lock file
 *   (file-store-lock.ts), which deletes take too; `ifNoneMatch: '*'` links the staged file, which
 *   fails with EEXIST if the key exists, also against a writer that takes no lock;
 * - the etag is an opaque version tag read from the file's inode, size and mtime
 *   (file-store-etag.ts says why it names one version, and how it differs from S3's);
 * - listings are in S3's order (UTF-8 byte order of the whole key), recursive for `list`, and a
 *   listing that starts after a key skips the folders before it without reading them.
 * The store keeps no file of its own per object. Files and folders whose names start with
 * `.carepipe` are the store's own and never listed: the lock folder, a write's temp file (staged
 * in the object's own folder so the rename stays on one filesystem), and what earlier versions
 * left (etag records in `<root>/.carepipe/`, `.carepipe-etag.*` sidecars), which are ignored.
 * A key cannot be both an object and a prefix of another (`a` and `a/b`), unlike S3.
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConfigError, InvalidInputError, NotFoundError, PreconditionFailedError, TransientError } from '../../core/errors.js';
import { withKeyLock, type LockOptions } from './file-store-lock.js';
import { Confinement } from './file-store-confine.js';
import { fileEtag, stampLaterThan, statFile } from './file-store-etag.js';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions, StoreCapabilities } from './object-store.js';
import { checkFileKey, checkFilePrefix, checkRange, compareKeys, RESERVED_NAME_PREFIX } from './store-keys.js';
import { countStoreRequest } from './store-requests.js';

export interface FileStoreOptions {
  /** Absolute path of the lake root. */
  root: string;
  lock?: LockOptions;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;
const info = (key: string, stats: BigIntStats): ObjectInfo => ({
  key,
  size: Number(stats.size),
  etag: fileEtag(stats),
  lastModified: new Date(Number(stats.mtimeNs / 1_000_000n)),
});

export class FileStore implements ObjectStore {
  readonly uri: string;
  readonly capabilities: StoreCapabilities = { conditionalCreate: true, conditionalReplace: true };
  private readonly root: string;
  private readonly lock: LockOptions;
  private readonly confinement: Confinement;

  constructor(options: FileStoreOptions) {
    this.root = options.root.replace(/\/+$/, '') || '/';
    this.confinement = new Confinement(this.root);
    this.uri = `file://${this.root}`;
    this.lock = options.lock ?? {};
  }

  async get(key: string): Promise<Uint8Array> {
    countStoreRequest('file', 'get');
    const path = await this.confinedPath(key);
    return this.fs('get', key, () => readFile(path));
  }

  /** Bytes [start, end), cut short at the end of the object as S3 does. */
  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    countStoreRequest('file', 'getRange');
    const path = await this.confinedPath(key);
    checkRange(this.objectUri(key), start, end);
    const handle = await this.openFile('getRange', key, path);
    try {
      const size = (await handle.stat()).size;
      if (start >= size && end > start) {
        throw new InvalidInputError(`${this.objectUri(key)}: the requested byte range starts at or beyond the end of the object.`);
      }
      const out = Buffer.alloc(Math.min(end, size) - start);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return out.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  async getStream(key: string): Promise<Readable> {
    countStoreRequest('file', 'get');
    const path = await this.confinedPath(key);
    const handle = await this.openFile('getStream', key, path);
    return handle.createReadStream();
  }

  /** Opens a regular file for reading; a folder is not an object. */
  private async openFile(op: string, key: string, path: string): Promise<FileHandle> {
    const handle = await this.fs(op, key, () => open(path, 'r'));
    if ((await handle.stat()).isFile()) return handle;
    await handle.close();
    throw new NotFoundError(`${this.objectUri(key)}: no such object.`);
  }

  /** One stat. A listing calls this for each object it finds, so a file:// listing also counts a head per object. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    countStoreRequest('file', 'head');
    const path = await this.confinedPath(key);
    const stats = await this.fs('head', key, () => statFile(path));
    return stats && info(key, stats);
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<ObjectInfo> {
    countStoreRequest('file', 'put');
    const path = this.path(key);
    const dir = dirname(path);
    // Owner-only: a lake holds PHI (raw/, quarantine/); folders 0700, files 0600.
    await this.fs('put', key, () => mkdir(dir, { recursive: true, mode: 0o700 }));
    await this.confinement.check(dir, this.objectUri(key));
    const temp = join(dir, `${RESERVED_NAME_PREFIX}-tmp.${randomBytes(8).toString('hex')}`);
    try {
      const handle = await this.fs('put', key, () => open(temp, 'wx', 0o600));
      let stats: BigIntStats;
      try {
        const staged = await this.fs('put', key, () => stage(handle, body));
        stats = await withKeyLock(this.root, key, () => this.commit(key, handle, staged, temp, options), this.lock);
      } finally {
        await handle.close();
      }
      await syncDir(dir);
      return info(key, stats);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /**
   * Under the key's lock: checks the condition, makes the staged file's mtime later than the
   * version it replaces (so the etag cannot come back, file-store-etag.ts), and puts it in place.
   */
  private async commit(key: string, handle: FileHandle, staged: BigIntStats, temp: string, options: PutOptions): Promise<BigIntStats> {
    const path = this.path(key);
    const current = await this.fs('put', key, () => statFile(path));
    if (options.ifMatch !== undefined && (!current || fileEtag(current) !== options.ifMatch.replace(/^"|"$/g, ''))) {
      const why = current ? 'the object changed since it was read' : 'the object no longer exists';
      throw new PreconditionFailedError(`${this.objectUri(key)}: conditional put lost: ${why}.`);
    }
    if (options.ifNoneMatch !== undefined) {
      try {
        await link(temp, path);
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw this.mapError(err, 'put', key);
        throw new PreconditionFailedError(`${this.objectUri(key)}: create-only put lost: the object already exists.`, { cause: err });
      }
      return staged;
    }
    let stats = staged;
    if (current && staged.mtimeNs <= current.mtimeNs) {
      stats = await this.fs('put', key, () => stampLaterThan(handle, staged, current.mtimeNs));
      await handle.sync(); // the new mtime must survive a crash as the rename does
    }
    await this.fs('put', key, () => rename(temp, path));
    return stats;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    checkFilePrefix(prefix, this.uri);
    const cut = prefix.lastIndexOf('/') + 1;
    for await (const key of this.walk(prefix.slice(0, cut), prefix.slice(cut), options.startAfter)) {
      const info = await this.head(key);
      if (info) yield info; // else deleted since the folder was read
    }
  }

  async listLevel(prefix: string): Promise<ListPage> {
    checkFilePrefix(prefix, this.uri);
    const cut = prefix.lastIndexOf('/') + 1;
    const dirKey = prefix.slice(0, cut);
    const page: ListPage = { objects: [], prefixes: [] };
    for (const { name, kind } of await this.entries(dirKey, prefix.slice(cut))) {
      if (kind === 'file') {
        const info = await this.head(dirKey + name);
        if (info) page.objects.push(info);
      } else if (await this.holdsObjects(`${dirKey}${name}/`)) {
        page.prefixes.push(`${dirKey}${name}/`);
      }
    }
    return page;
  }

  async delete(key: string): Promise<void> {
    countStoreRequest('file', 'delete');
    const path = this.path(key);
    await this.confinement.check(dirname(path), this.objectUri(key));
    await withKeyLock(
      this.root,
      key,
      async () => {
        try {
          await unlink(path);
        } catch (err) {
          if (!['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errno(err) ?? '')) throw this.mapError(err, 'delete', key);
        }
      },
      this.lock,
    );
  }

  close(): void {
    // Nothing to release: every call opens and closes its own files.
  }

  /**
   * Keys of every object under `dirKey` whose first name starts with `namePrefix`, in key order,
   * after `startAfter` when given. A folder whose every key sorts at or before `startAfter` is
   * skipped unread, so resuming a listing costs the folders on the way down to `startAfter`
   * (one readdir a level), not the objects before it.
   */
  private async *walk(dirKey: string, namePrefix: string, startAfter?: string): AsyncGenerator<string> {
    for (const { name, kind } of await this.entries(dirKey, namePrefix)) {
      const key = kind === 'file' ? dirKey + name : `${dirKey}${name}/`;
      // Past startAfter once an entry sorts after it: everything later does too.
      const after = startAfter === undefined || compareKeys(key, startAfter) > 0;
      if (kind === 'file') {
        if (after) yield key;
      } else if (after) {
        yield* this.walk(key, '');
      } else if (startAfter!.startsWith(key)) {
        yield* this.walk(key, '', startAfter); // startAfter lies inside this folder
      } // else the folder sorts wholly before startAfter
      if (after) startAfter = undefined;
    }
  }

  private async holdsObjects(dirKey: string): Promise<boolean> {
    for await (const _ of this.walk(dirKey, '')) return true;
    return false;
  }

  /**
   * One folder's objects and sub-folders, sorted as their keys sort: a folder sorts as its name
   * plus '/', since every key inside it starts so (`a-c` comes before `a/b`, as in S3).
   */
  private async entries(dirKey: string, namePrefix: string): Promise<{ name: string; kind: 'file' | 'dir' }[]> {
    let dirents: Dirent[];
    countStoreRequest('file', 'list');
    try {
      dirents = await readdir(join(this.root, dirKey), { withFileTypes: true });
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return [];
      throw this.mapError(err, 'list', dirKey);
    }
    const found: { name: string; kind: 'file' | 'dir'; sortKey: string }[] = [];
    for (const d of dirents) {
      if (d.name.startsWith(RESERVED_NAME_PREFIX) || !d.name.startsWith(namePrefix)) continue;
      // Symbolic links count as objects when they lead to a file; linked folders are not followed.
      const isFile = d.isFile() || (d.isSymbolicLink() && (await stat(join(this.root, dirKey, d.name)).catch(() => undefined))?.isFile() === true);
      if (isFile) found.push({ name: d.name, kind: 'file', sortKey: d.name });
      else if (d.isDirectory()) found.push({ name: d.name, kind: 'dir', sortKey: `${d.name}/` });
    }
    return found.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  }

  private path(key: string): string {
    checkFileKey(key, this.uri);
    return join(this.root, key);
  }

  /** The key's path, refused when a symbolic link takes it outside the lake root. */
  private async confinedPath(key: string): Promise<string> {
    const path = this.path(key);
    await this.confinement.check(path, this.objectUri(key));
    return path;
  }

  private objectUri(key: string): string {
    return `${this.uri}/${key}`;
  }

  private async fs<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.mapError(err, op, key);
    }
  }

  private mapError(err: unknown, op: string, key: string): unknown {
    const code = errno(err);
    const where = this.objectUri(key);
    const options = { cause: err };
    if (op === 'put' && (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR')) {
      return new InvalidInputError(`${where}: this key and another object's key are each other's folder, which a file:// lake cannot hold (S3 can).`, options);
    }
    switch (code) {
      case 'ENOENT':
      case 'EISDIR':
      case 'ENOTDIR':
        return new NotFoundError(`${where}: no such object.`, options);
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new ConfigError(`${op} ${where} was refused by the filesystem (${code}): check the lake folder's permissions.`, options);
      case 'ENOSPC':
      case 'EMFILE':
      case 'ENFILE':
      case 'EIO':
      case 'EBUSY':
      case 'EAGAIN':
        return new TransientError(`${op} ${where} failed (${code}): worth retrying.`, options);
      default:
        return err;
    }
  }
}

/** Writes `body` to the staged file, makes it durable, and returns its stats. */
async function stage(handle: FileHandle, body: Uint8Array | string | Readable): Promise<BigIntStats> {
  const write = async (chunk: Uint8Array) => {
    for (let done = 0; done < chunk.byteLength;) done += (await handle.write(chunk, done)).bytesWritten;
  };
  if (typeof body === 'string') await write(Buffer.from(body, 'utf8'));
  else if (body instanceof Uint8Array) await write(body);
  else for await (const chunk of body) await write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Uint8Array));
  await handle.sync();
  return handle.stat({ bigint: true });
}

/** Makes a rename or link in `dir` durable; filesystems that cannot fsync a folder are let be. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on filesystems without folder fsync: the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}
