/** Builds the activity dependencies of a process from its config: stores are opened once per lake URI. */
import type { ActivityDeps } from '../activities/context.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { openStore } from '../activities/io/open-store.js';
import { type Config, type Keys, parseLakeUri } from '../core/config.js';
import type { Logger } from '../core/log.js';

export function createDeps(config: Config, keys: Keys, logger: Logger): ActivityDeps & { close(): void } {
  const stores = new Map<string, ObjectStore>();
  return {
    config,
    keys,
    logger,
    lake(uri: string) {
      let store = stores.get(uri);
      if (!store) stores.set(uri, (store = openStore(parseLakeUri(uri, 'lake'), config.s3)));
      return store;
    },
    close() {
      for (const s of stores.values()) s.close();
      stores.clear();
    },
  };
}
