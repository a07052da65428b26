/**
 * The models a server answers for, and the champion of each, followed as the alias moves. Every
 * `pollMs` the host HEADs each model's alias object; when its etag moved it reads the alias, loads
 * the new version completely (pipeline, predictor, threshold) and only then swaps the model's
 * champion reference in one assignment. A request takes the reference once and scores its whole
 * batch with it, so during a promotion each response is wholly the old version or wholly the new
 * one, and none fails: the old version stays in memory until the requests holding it are done.
 * Pinned versions are loaded on first use and kept (a few, least recently used first out).
 */
import type { ObjectStore } from '../activities/io/object-store.js';
import { readAlias } from '../activities/registry/aliases.js';
import { listModels } from '../activities/registry/catalog.js';
import type { Logger } from '../core/log.js';
import { lake } from '../data-lake/layout.js';
import { loadServedModel, type ServedModel } from './served-model.js';

export interface ModelHostOptions {
  store: ObjectStore;
  logger: Logger;
  /** Models to serve; all the registry holds (re-listed at each poll) when absent. */
  models?: readonly string[];
  pollMs: number;
  /** Pinned versions kept loaded. */
  pinnedCacheSize?: number;
}

interface Followed {
  etag: string | null;
  champion: ServedModel | undefined;
}

export class ModelHost {
  private readonly followed = new Map<string, Followed>();
  private readonly pinned = new Map<string, Promise<ServedModel | undefined>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private firstPollDone = false;

  constructor(private readonly options: ModelHostOptions) {}

  /** Loads every champion once, then follows the aliases until close(). */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Ready once the first poll ran and every served model has its champion loaded. */
  ready(): boolean {
    if (!this.firstPollDone || this.followed.size === 0) return false;
    for (const f of this.followed.values()) if (!f.champion) return false;
    return true;
  }

  modelNames(): string[] {
    return [...this.followed.keys()].sort();
  }

  has(name: string): boolean {
    return this.followed.has(name);
  }

  champion(name: string): ServedModel | undefined {
    return this.followed.get(name)?.champion;
  }

  /** A pinned version (the champion's own object when it is the champion); undefined if the registry has no such version. */
  async version(name: string, version: string): Promise<ServedModel | undefined> {
    const champion = this.champion(name);
    if (champion?.version === version) return champion;
    const key = `${name}\u0000${version}`;
    let entry = this.pinned.get(key);
    if (entry) {
      this.pinned.delete(key); // re-inserted below: most recently used last
    } else {
      entry = loadServedModel(this.options.store, name, version);
      entry.catch(() => this.pinned.delete(key)); // a failed load is retried by the next request
    }
    this.pinned.set(key, entry);
    const limit = this.options.pinnedCacheSize ?? 8;
    while (this.pinned.size > limit) this.pinned.delete(this.pinned.keys().next().value!);
    const served = await entry;
    if (!served) this.pinned.delete(key);
    return served;
  }

  /** One round: (re-)list models, and reload each whose alias moved. Rounds never overlap. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const { store, logger } = this.options;
    try {
      const names = this.options.models ?? (await listModels(store));
      for (const name of names) if (!this.followed.has(name)) this.followed.set(name, { etag: null, champion: undefined });
      for (const name of names) await this.follow(name, this.followed.get(name)!);
    } catch (err) {
      logger.warn('serve: polling the registry failed; serving what is loaded', { error: (err as Error).message });
    }
    this.firstPollDone = true;
  }

  private async follow(name: string, f: Followed): Promise<void> {
    const { store, logger } = this.options;
    const head = await store.head(lake.alias(name, 'champion'));
    const etag = head?.etag ?? null;
    if (etag === f.etag && f.champion) return;
    if (etag === null) return; // no champion yet: not ready for this model
    const alias = await readAlias(store, name);
    if (!alias.doc) return;
    if (f.champion?.version === alias.doc.version) {
      f.etag = alias.etag;
      return;
    }
    const next = (await this.version(name, alias.doc.version)) ?? undefined;
    if (!next) {
      logger.warn('serve: the champion alias names a version the registry does not hold', { model: name, version: alias.doc.version });
      return;
    }
    const previous = f.champion?.version ?? null;
    f.champion = next; // the swap: one assignment, after the new version is wholly loaded
    f.etag = alias.etag;
    logger.info('serve: champion loaded', { model: name, version: next.version, previous });
  }
}
