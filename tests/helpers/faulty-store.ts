/**
 * An ObjectStore that fails on purpose: the first N `get` or `put` calls matching a rule throw
 * TransientError (what the S3 store throws when the server is unreachable or throttling), then
 * calls go through to the real store. Tests wrap a lake's store with it to show that a transient
 * error is retried by Temporal and changes nothing in the end.
 */
import type { Readable } from 'node:stream';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions } from '../../activities/io/object-store.js';
import { TransientError } from '../../core/errors.js';

export type FaultyOp = 'get' | 'put';

export interface FaultRule {
  /** A name for reports (`injected` counts by it). */
  name: string;
  op: FaultyOp;
  /** Which keys the rule applies to. */
  match: (key: string) => boolean;
  /** How many matching calls fail (in total, not per key) before calls go through. */
  times: number;
}

export interface InjectedFault {
  rule: string;
  op: FaultyOp;
  key: string;
}

export class FaultyStore implements ObjectStore {
  /** Every fault thrown, in order. */
  readonly injected: InjectedFault[] = [];
  private readonly left: Map<FaultRule, number>;

  constructor(
    private readonly inner: ObjectStore,
    rules: readonly FaultRule[],
  ) {
    this.left = new Map(rules.map((r) => [r, r.times]));
  }

  get uri(): string {
    return this.inner.uri;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  /** Failures injected per rule name. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const rule of this.left.keys()) out[rule.name] = 0;
    for (const f of this.injected) out[f.rule] = (out[f.rule] ?? 0) + 1;
    return out;
  }

  private maybeFail(op: FaultyOp, key: string): void {
    for (const [rule, left] of this.left) {
      if (left > 0 && rule.op === op && rule.match(key)) {
        this.left.set(rule, left - 1);
        this.injected.push({ rule: rule.name, op, key });
        throw new TransientError(`faulty store: injected ${op} failure (${rule.name}) on ${key}`);
      }
    }
  }

  async get(key: string): Promise<Uint8Array> {
    this.maybeFail('get', key);
    return this.inner.get(key);
  }

  getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    return this.inner.getRange(key, start, end);
  }

  getStream(key: string): Promise<Readable> {
    return this.inner.getStream(key);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  async put(key: string, body: Uint8Array | string | Readable, options?: PutOptions): Promise<ObjectInfo> {
    this.maybeFail('put', key);
    return this.inner.put(key, body, options);
  }

  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, options);
  }

  listLevel(prefix: string): Promise<ListPage> {
    return this.inner.listLevel(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  close(): void {
    this.inner.close();
  }
}
