/**
 * One interface over the lake's object stores: `s3://` (AWS S3 or any S3-compatible server) and
 * `file://` (a local folder). Keys are relative to the lake root and use `/` separators.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /**
   * Opaque version tag, used by `ifMatch`: the S3 ETag, or FileStore's tag of the file's inode,
   * size and mtime. Not a content hash: a caller comparing bytes hashes them itself.
   */
  etag: string;
  lastModified: Date;
}

export interface PutOptions {
  contentType?: string;
  /** Create only: fail with PreconditionFailedError if the key exists (S3 `If-None-Match: *`). */
  ifNoneMatch?: '*';
  /** Replace only this version: fail with PreconditionFailedError if the etag changed (S3 `If-Match`). */
  ifMatch?: string;
  /**
   * Write once, read many: keep the object undeletable and unchangeable until this date (S3 Object
   * Lock, compliance mode) where the store has Object Lock on the bucket; other stores ignore it.
   */
  retainUntil?: Date;
}

export interface ListOptions {
  /**
   * Only keys after this one (exclusive), in the listing's order: S3's ListObjectsV2 `StartAfter`.
   * A paged reader resumes where its last page ended without re-reading the keys before it.
   */
  startAfter?: string;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Common prefixes (with trailing delimiter), when a delimiter was given. */
  prefixes: string[];
}

export interface StoreCapabilities {
  /** `ifNoneMatch: '*'` is enforced atomically by the store. */
  conditionalCreate: boolean;
  /** `ifMatch` is enforced atomically by the store. */
  conditionalReplace: boolean;
}

export interface ObjectStore {
  /** The lake root URI, e.g. `s3://bucket/prefix` or `file:///abs/path`. */
  readonly uri: string;
  readonly capabilities: StoreCapabilities;
  /** Whole object. Throws NotFoundError. */
  get(key: string): Promise<Uint8Array>;
  /** Bytes [start, end) of the object. Throws NotFoundError. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** A stream of the object's bytes. Throws NotFoundError. */
  getStream(key: string): Promise<Readable>;
  /** Metadata, or undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Writes an object; bodies larger than the multipart threshold (or streams) upload in parts. */
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<ObjectInfo>;
  /** Every object under a prefix (after `startAfter`, when given), in lexicographic key order, paged transparently. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** One level under a prefix: objects and sub-prefixes. */
  listLevel(prefix: string): Promise<ListPage>;
  /** Deletes if present; deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}
