/**
 * Builds the activity dependencies of a process from its config: stores are opened once per lake
 * URI. Worker processes also ask for a curator pool (`curatorThreads` > 0), which close() drains
 * and stops; without one, files are curated inline on the main thread.
 */
import type { ActivityDeps } from '../activities/context.js';
import { createCuratorPool } from '../activities/ingest/curator-pool.js';
import type { ObjectStore } from '../activities/io/object-store.js';
import { openStore } from '../activities/io/open-store.js';
import { setParquetWasmRecycleBytes } from '../activities/io/parquet-runtime.js';
import { type Config, DEFAULT_INGEST_LIMITS, type Keys, parseLakeUri } from '../core/config.js';
import { checkLakeAllowed } from '../core/identity/lake-allow.js';
import { bindAuditKeys } from '../activities/audit/log.js';
import { auditKeyRing } from '../activities/audit/chain.js';
import type { Logger } from '../core/log.js';

export interface DepsOptions {
  /** Worker threads curating raw files (config.worker.curatorThreads); 0 curates inline. */
  curatorThreads: number;
}

export function createDeps(config: Config, keys: Keys, logger: Logger): ActivityDeps & { close(): void };
/** With a curator pool: close() waits for the requests it is running, then stops its threads. */
export function createDeps(config: Config, keys: Keys, logger: Logger, options: DepsOptions): ActivityDeps & { close(): Promise<void> };
export function createDeps(config: Config, keys: Keys, logger: Logger, options?: DepsOptions): ActivityDeps & { close(): Promise<void> } {
  const stores = new Map<string, ObjectStore>();
  const threads = options?.curatorThreads ?? 0;
  const limits = config.ingest ?? DEFAULT_INGEST_LIMITS;
  // Inline curation and writes decode on this thread's parquet-wasm instance; the pool's threads get the same bound.
  setParquetWasmRecycleBytes(limits.wasmRecycleBytes);
  const curator =
    threads > 0 ? createCuratorPool({ threads, logger, deadlineMs: limits.curateDeadlineMs, wasmRecycleBytes: limits.wasmRecycleBytes }) : undefined;
  const auditRing = auditKeyRing(keys);
  return {
    config,
    keys,
    logger,
    lake(uri: string) {
      let store = stores.get(uri);
      if (!store) checkLakeAllowed(uri, config.lakeAllow);
      // Every store the activities use can append to the audit trail, keyed by the audit ring.
      if (!store)
        stores.set(
          uri,
          (store = bindAuditKeys(openStore(parseLakeUri(uri, 'lake'), config.s3), { ring: auditRing, retainDays: config.compliance.auditLockDays })),
        );
      return store;
    },
    ...(curator ? { curator } : {}),
    async close() {
      for (const s of stores.values()) s.close();
      stores.clear();
      await curator?.close();
    },
  };
}
