/**
 * Requests the lake's stores make, by store kind and operation: what a run costs in S3 requests
 * (each one billed and each one a round trip), and for a file:// lake the same calls as file
 * system work. The stores count here; the worker exports the counts as the Prometheus counter
 * `carepipe_store_requests_total{store,op}` (workers/metrics.ts), so this module needs no
 * Temporal and the CLI's stores count too. `list` is one listing page (an S3 ListObjectsV2 call,
 * or one folder read on file://); a multipart upload counts as one `put`.
 *
 * Every request is also a heartbeat of the activity making it (when there is one): a request is
 * progress, so bookkeeping activities (listing, planning, manifests), which are a series of
 * requests, heartbeat without code of their own, and a hung request is bounded by the store's
 * own timeouts (activities/io/s3-store.ts), shorter than any heartbeat timeout. The SDK throttles
 * heartbeats, so one per request costs nothing.
 */
import { asyncLocalStorage } from '@temporalio/activity';
export type StoreKind = 'file' | 's3';
export type StoreOp = 'get' | 'getRange' | 'head' | 'put' | 'list' | 'delete';

type Listener = (store: StoreKind, op: StoreOp) => void;

const counts = new Map<string, number>();
const listeners: Listener[] = [];

export function countStoreRequest(store: StoreKind, op: StoreOp): void {
  const key = `${store}:${op}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const l of listeners) l(store, op);
  asyncLocalStorage.getStore()?.heartbeat({ step: 'store', op });
}

/** Calls `fn` on every request from now on (the worker's metrics exporter). */
export function onStoreRequest(fn: Listener): void {
  listeners.push(fn);
}

/** Requests so far in this process, `{ 's3:get': n, ... }`. */
export function storeRequestCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}
