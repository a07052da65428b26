/**
 * A file:// lake holds PHI: its folders are created 0700 and its files 0600, and nothing is read,
 * listed, written or deleted through a symbolic link that leaves the lake root.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../activities/io/file-store.js';
import { ensureBucket } from '../../activities/io/open-store.js';
import { parseLakeUri } from '../../core/config.js';
import { InvalidInputError } from '../../core/errors.js';

const mode = (path: string) => statSync(path).mode & 0o777;

test('a new lake, its folders and its files are owner-only', async (t) => {
  const root = join(mkdtempSync(join(tmpdir(), 'carepipe-modes-')), 'lake');
  await ensureBucket(parseLakeUri(`file://${root}`), undefined as never);
  const store = new FileStore({ root });
  await store.put('raw/patients/ingest_date=2026-01-01/p.parquet', 'phi');
  await store.put('audit/registry-m/000000000000.json', '{}', { ifNoneMatch: '*' });
  t.is(mode(root), 0o700);
  for (const dir of ['raw', 'raw/patients', 'raw/patients/ingest_date=2026-01-01', 'audit/registry-m']) t.is(mode(join(root, dir)), 0o700, dir);
  for (const file of ['raw/patients/ingest_date=2026-01-01/p.parquet', 'audit/registry-m/000000000000.json']) t.is(mode(join(root, file)), 0o600, file);
});

test('a file reached through a symbolic link leaving the lake root is refused by get, head and list, naming the path', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'carepipe-links-'));
  const root = join(base, 'lake');
  mkdirSync(join(root, 'raw/patients'), { recursive: true });
  writeFileSync(join(base, 'secret.parquet'), 'outside');
  symlinkSync(join(base, 'secret.parquet'), join(root, 'raw/patients/p.parquet'));
  const store = new FileStore({ root });
  const message = `file://${root}/raw/patients/p.parquet: reached through a symbolic link to ${join(base, 'secret.parquet')}, outside the lake root ${root}; refused.`;
  for (const call of [
    () => store.get('raw/patients/p.parquet'),
    () => store.head('raw/patients/p.parquet'),
    () => store.getRange('raw/patients/p.parquet', 0, 2),
  ]) {
    t.is((await t.throwsAsync(call(), { instanceOf: InvalidInputError })).message, message);
  }
  const listing = async () => {
    for await (const _ of store.list('raw/')) void _;
  };
  t.is((await t.throwsAsync(listing(), { instanceOf: InvalidInputError })).message, message);
});

test('a linked folder leading outside the root takes no write and no delete; a link inside the root still works', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'carepipe-links-'));
  const root = join(base, 'lake');
  mkdirSync(join(base, 'elsewhere'));
  mkdirSync(join(root, 'curated'), { recursive: true });
  symlinkSync(join(base, 'elsewhere'), join(root, 'quarantine'));
  const store = new FileStore({ root });
  const err = await t.throwsAsync(store.put('quarantine/x.parquet', 'phi'), { instanceOf: InvalidInputError });
  t.regex(err.message, /^file:\/\/.+\/lake\/quarantine\/x\.parquet: reached through a symbolic link to .+\/elsewhere, outside the lake root/);
  t.deepEqual(readdirSync(join(base, 'elsewhere')), []);
  writeFileSync(join(base, 'elsewhere', 'kept.parquet'), 'x');
  await t.throwsAsync(store.delete('quarantine/kept.parquet'), { instanceOf: InvalidInputError });
  t.deepEqual(readdirSync(join(base, 'elsewhere')), ['kept.parquet']);

  await store.put('curated/a.json', 'inside');
  symlinkSync(join(root, 'curated/a.json'), join(root, 'curated/b.json'));
  t.is(new TextDecoder().decode(await store.get('curated/b.json')), 'inside');
});
