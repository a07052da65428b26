/**
 * An ObjectStore that counts what passes through it: the objects listings return (each one a
 * line of a LIST answer on S3, a stat and an etag lookup on file://) and the calls made, so a
 * test can hold a reader to a budget of objects touched.
 */
import type { Readable } from 'node:stream';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from '../../activities/io/object-store.js';

export class CountingStore implements ObjectStore {
  /** Objects returned by list and listLevel. */
  listed = 0;
  /** Calls of list and listLevel. */
  listCalls = 0;
  /** Calls of get, getRange, getStream and head. */
  reads = 0;

  constructor(private readonly inner: ObjectStore) {}

  get uri(): string {
    return this.inner.uri;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  reset(): void {
    this.listed = 0;
    this.listCalls = 0;
    this.reads = 0;
  }

  get(key: string): Promise<Uint8Array> {
    this.reads++;
    return this.inner.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    this.reads++;
    return this.inner.getRange(key, start, end);
  }

  getStream(key: string): Promise<Readable> {
    this.reads++;
    return this.inner.getStream(key);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    this.reads++;
    return this.inner.head(key);
  }

  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<ObjectInfo> {
    return this.inner.put(key, body, options);
  }

  async *list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    this.listCalls++;
    for await (const o of this.inner.list(prefix, options)) {
      this.listed++;
      yield o;
    }
  }

  async listLevel(prefix: string): Promise<ListPage> {
    this.listCalls++;
    const page = await this.inner.listLevel(prefix);
    this.listed += page.objects.length;
    return page;
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  close(): void {
    this.inner.close();
  }
}
