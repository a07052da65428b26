/**
 * The stores count their requests by kind and operation (activities/io/store-requests.ts): a
 * FileStore on a temporary folder, each call against the counts it must add.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../activities/io/file-store.js';
import { onStoreRequest, storeRequestCounts } from '../../activities/io/store-requests.js';

const root = mkdtempSync(join(tmpdir(), 'store-requests-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

test.serial('each FileStore call counts once under its operation; a listing counts a folder read per folder and a head per object', async (t) => {
  const store = new FileStore({ root });
  const heard: string[] = [];
  onStoreRequest((kind, op) => heard.push(`${kind}:${op}`));
  let before = storeRequestCounts();
  await store.put('a/b/one.txt', 'hello');
  await store.get('a/b/one.txt');
  await store.getRange('a/b/one.txt', 0, 2);
  await store.head('a/b/one.txt');
  await store.delete('a/b/missing.txt');
  t.deepEqual(delta(before, storeRequestCounts()), { 'file:put': 1, 'file:get': 1, 'file:getRange': 1, 'file:head': 1, 'file:delete': 1 });
  t.deepEqual(heard, ['file:put', 'file:get', 'file:getRange', 'file:head', 'file:delete']);

  await store.put('a/c/two.txt', 'world');
  before = storeRequestCounts();
  const keys: string[] = [];
  for await (const o of store.list('a/')) keys.push(o.key);
  t.deepEqual(keys, ['a/b/one.txt', 'a/c/two.txt']);
  t.deepEqual(delta(before, storeRequestCounts()), { 'file:list': 3, 'file:head': 2 }, 'folders a/, a/b/, a/c/; one head per object');
});
