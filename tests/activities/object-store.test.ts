/**
 * One contract for every ObjectStore, run against a temporary folder (FileStore) and a real
 * versitygw (S3Store, a fresh bucket per run). Each test works under its own key prefix, so
 * tests run concurrently on one store. Conditional writes are tested as the store reports them:
 * enforced (first wins, stale etags lose, racing writers: exactly one wins), or refused. Etags
 * are opaque version tags: the contract checks that put, head and list agree on one, never that
 * it is an MD5 (S3's tests below check what the server returns).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { parseConfig, parseLakeUri, type LakeLocation, type S3Settings } from '../../core/config.js';
import { ConfigError, InvalidInputError, NotFoundError, PreconditionFailedError, TransientError } from '../../core/errors.js';
import { lockPath } from '../../activities/io/file-store-lock.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { ensureBucket, joinKey, openStore, type OpenStoreOptions } from '../../activities/io/open-store.js';
import { mapS3Error } from '../../activities/io/store-errors.js';
import { compareKeys } from '../../activities/io/store-keys.js';
import { chunked, collect, deadPid, md5Hex, readAll } from '../helpers/store-fixtures.js';
import { testS3Settings, uniqueBucket } from '../helpers/services.js';

const MiB = 1024 * 1024;
const LIST_PAGE_SIZE = 4;

interface Backend {
  name: 'FileStore' | 'S3Store';
  /** Creates the lake and returns it with the URI of the folder or bucket that holds it. */
  setUp(): Promise<{ lake: LakeLocation; parentUri: string }>;
  tearDown(): Promise<void>;
  settings(): S3Settings;
  options: OpenStoreOptions;
  /** What `capabilities` must say for this store. */
  enforcesConditions: boolean;
  /** Whether an etag shows a multipart upload (`<md5>-<parts>`). */
  multipartEtags: boolean;
}

const fileSettings: S3Settings = {
  endpoint: undefined,
  region: 'us-east-1',
  forcePathStyle: false,
  credentials: undefined,
  multipartThresholdBytes: 5 * MiB,
  conditionalWrites: 'atomic',
  sse: { mode: 'none' },
  localDevelopment: true,
};
let tempRoot = '';

const backends: Backend[] = [
  {
    name: 'FileStore',
    setUp: async () => {
      tempRoot = await mkdtemp(join(tmpdir(), 'carepipe-store-'));
      return { lake: parseLakeUri(`file://${tempRoot}/lake`), parentUri: `file://${tempRoot}` };
    },
    tearDown: () => rm(tempRoot, { recursive: true, force: true }),
    settings: () => fileSettings,
    options: {},
    enforcesConditions: true,
    multipartEtags: false,
  },
  {
    name: 'S3Store',
    setUp: async () => {
      const bucket = uniqueBucket('object-store');
      return { lake: parseLakeUri(`s3://${bucket}/lake`), parentUri: `s3://${bucket}` };
    },
    tearDown: async () => undefined,
    settings: testS3Settings,
    // Declared 'unsupported' here, so the suite checks that such a store refuses conditional puts;
    // the 'per-request' default for non-AWS endpoints is covered by its own test below.
    options: { listPageSize: LIST_PAGE_SIZE, conditionalWrites: 'unsupported' },
    enforcesConditions: false,
    multipartEtags: true,
  },
];

for (const backend of backends) registerContract(backend);

function registerContract(backend: Backend): void {
  const n = backend.name;
  let store: ObjectStore;
  let parent: ObjectStore;
  let lake: LakeLocation;

  test.before(async () => {
    const where = await backend.setUp();
    lake = where.lake;
    await ensureBucket(lake, backend.settings());
    store = openStore(lake, backend.settings(), backend.options);
    parent = openStore(parseLakeUri(where.parentUri), backend.settings(), backend.options);
  });
  test.after.always(async () => {
    store?.close();
    parent?.close();
    await backend.tearDown();
  });

  test(`${n}: the store reports whether it enforces conditional writes.`, (t) => {
    t.is(store.uri, lake.uri);
    t.deepEqual(store.capabilities, { conditionalCreate: backend.enforcesConditions, conditionalReplace: backend.enforcesConditions });
  });

  test(`${n}: a text object reads back as the same text, and put and head agree on its size and etag.`, async (t) => {
    const text = 'héllo, wörld\n';
    const put = await store.put('text/hello.txt', text, { contentType: 'text/plain' });
    t.is(Buffer.from(await store.get('text/hello.txt')).toString('utf8'), text);
    t.is(put.size, Buffer.byteLength(text));
    t.true(put.etag.length > 0);
    const head = await store.head('text/hello.txt');
    t.is(head?.key, 'text/hello.txt');
    t.is(head?.size, Buffer.byteLength(text));
    t.is(head?.etag, put.etag);
    t.false(Number.isNaN(head?.lastModified.getTime()));
  });

  test(`${n}: a binary object with every byte value reads back byte for byte.`, async (t) => {
    const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4096)]);
    const put = await store.put('binary/all-bytes.bin', body);
    t.deepEqual(Buffer.from(await store.get('binary/all-bytes.bin')), body);
    t.is((await store.head('binary/all-bytes.bin'))?.etag, put.etag);
  });

  test(`${n}: head of an absent key is undefined.`, async (t) => {
    t.is(await store.head('absent/never-written.bin'), undefined);
  });

  test(`${n}: reading an absent key throws NotFoundError naming the key.`, async (t) => {
    const key = 'absent/missing.parquet';
    const namesKey = { instanceOf: NotFoundError, message: (m: string) => m.includes(key) };
    await t.throwsAsync(store.get(key), namesKey);
    await t.throwsAsync(store.getRange(key, 0, 10), namesKey);
    await t.throwsAsync(store.getStream(key), namesKey);
  });

  test(`${n}: ranged reads return exactly the requested bytes, including the last byte.`, async (t) => {
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 251));
    await store.put('range/pattern.bin', body);
    for (const [start, end] of [
      [0, 1],
      [0, 10],
      [100, 357],
      [999, 1000],
      [0, 1000],
    ] as const) {
      t.deepEqual(Buffer.from(await store.getRange('range/pattern.bin', start, end)), body.subarray(start, end), `[${start}, ${end})`);
    }
    t.deepEqual(Buffer.from(await store.getRange('range/pattern.bin', 990, 5000)), body.subarray(990), 'a range past the end is cut short');
    t.is((await store.getRange('range/pattern.bin', 5, 5)).length, 0);
    await t.throwsAsync(store.getRange('range/pattern.bin', 1000, 1010), { instanceOf: InvalidInputError });
    await t.throwsAsync(store.getRange('range/pattern.bin', 10, 5), { instanceOf: InvalidInputError });
  });

  test(`${n}: a stream read returns the whole object.`, async (t) => {
    const body = randomBytes(300 * 1024);
    await store.put('stream/read.bin', body);
    t.true((await readAll(await store.getStream('stream/read.bin'))).equals(body));
  });

  test(`${n}: a body larger than the multipart threshold round-trips byte for byte.`, async (t) => {
    const body = randomBytes(12 * MiB);
    const put = await store.put('multipart/buffer.bin', body);
    t.is(put.size, body.length);
    if (backend.multipartEtags) t.regex(put.etag, /^[0-9a-f]{32}-3$/, 'three parts of 5 MiB');
    t.is((await store.head('multipart/buffer.bin'))?.etag, put.etag);
    t.true(Buffer.from(await store.get('multipart/buffer.bin')).equals(body));
  });

  test(`${n}: a Readable stream body round-trips byte for byte and reports its size.`, async (t) => {
    const body = randomBytes(12 * MiB + 12345);
    const put = await store.put('multipart/stream.bin', chunked(body, 64 * 1024));
    t.is(put.size, body.length);
    if (backend.multipartEtags) t.regex(put.etag, /^[0-9a-f]{32}-3$/, 'three parts of 5 MiB');
    const head = await store.head('multipart/stream.bin');
    t.deepEqual([head?.size, head?.etag], [body.length, put.etag]);
    t.true((await readAll(await store.getStream('multipart/stream.bin'))).equals(body));

    const small = randomBytes(100);
    const smallPut = await store.put('multipart/small-stream.bin', chunked(small, 7));
    t.is(smallPut.size, 100);
    if (backend.multipartEtags) t.is(smallPut.etag, md5Hex(small), 'a stream shorter than a part is written whole');
    t.deepEqual(Buffer.from(await store.get('multipart/small-stream.bin')), small);
  });

  test(`${n}: listing a prefix returns every key under it in S3 order${n === 'S3Store' ? ', across several pages' : ''}.`, async (t) => {
    // In S3 order '-' (0x2d) and '.' sort before '/' (0x2f), and 'z' before 'é' (0xc3 0xa9).
    const expected = [
      'listing/a-c',
      'listing/a.txt',
      'listing/a/b',
      'listing/a/c/d',
      'listing/a0',
      ...Array.from({ length: 10 }, (_, i) => `listing/b/${String(i).padStart(2, '0')}`),
      'listing/c',
      'listing/z',
      'listing/é',
    ];
    const puts = await Promise.all([...expected].reverse().map((key) => store.put(key, key)));
    await store.put('listing-other/x', 'outside the prefix');
    await parent.put('listing/outside-the-lake', 'outside the lake root');

    const listed = await collect(store.list('listing/'));
    t.deepEqual(
      listed.map((o) => o.key),
      expected,
    );
    t.true(listed.length > 4 * LIST_PAGE_SIZE, 'enough keys for several pages');
    t.deepEqual(
      listed.map((o) => o.size),
      expected.map((key) => Buffer.byteLength(key)),
    );
    t.deepEqual(
      listed.map((o) => o.etag),
      expected.map((key) => puts.find((p) => p.key === key)?.etag),
    );
    t.deepEqual(
      (await collect(store.list('listing/a'))).map((o) => o.key),
      expected.slice(0, 5),
      'a prefix may end inside a name',
    );
    t.deepEqual(await collect(store.list('listing/nothing-here/')), []);
  });

  test(`${n}: a listing after a key returns the keys after it in the same order${n === 'S3Store' ? ', across several pages' : ''}.`, async (t) => {
    const keys = [
      'after/a-c',
      'after/a.txt',
      'after/a/b',
      'after/a/c/d',
      'after/a0',
      ...Array.from({ length: 10 }, (_, i) => `after/b/${String(i).padStart(2, '0')}`),
      'after/c',
      'after/é',
    ];
    const puts = await Promise.all(keys.map((key) => store.put(key, key)));
    const after = async (startAfter: string, prefix = 'after/') => (await collect(store.list(prefix, { startAfter }))).map((o) => o.key);
    // A key that exists, one inside a folder, one between keys, a folder itself, and the bounds.
    for (const startAfter of [
      'after/a/b',
      'after/a/c/c',
      'after/a/',
      'after/a',
      'after/b/03',
      'after/b/',
      'after/b',
      'after/b0',
      'after/',
      '',
      'after/z',
      'b',
    ]) {
      t.deepEqual(
        await after(startAfter),
        keys.filter((k) => compareKeys(k, startAfter) > 0),
        `after ${startAfter}`,
      );
    }
    t.deepEqual(await after('after/b/07', 'after/b/'), ['after/b/08', 'after/b/09']);
    t.deepEqual(await after('a', 'after/a/'), keys.slice(2, 4), 'a start before the prefix lists the whole prefix');
    const listed = await collect(store.list('after/', { startAfter: 'after/a-c' }));
    t.deepEqual(
      listed.map((o) => o.etag),
      puts.slice(1).map((p) => p.etag),
    );
  });

  test(`${n}: listing one level returns its objects and sub-prefixes.`, async (t) => {
    for (const key of ['level/x.json', 'level/y', 'level/a/1', 'level/a/2', 'level/b/c/3']) await store.put(key, 'level');
    const level = await store.listLevel('level/');
    t.deepEqual(
      level.objects.map((o) => [o.key, o.size]),
      [
        ['level/x.json', 5],
        ['level/y', 5],
      ],
    );
    t.deepEqual(level.prefixes, ['level/a/', 'level/b/']);
    const inner = await store.listLevel('level/a/');
    t.deepEqual(
      inner.objects.map((o) => o.key),
      ['level/a/1', 'level/a/2'],
    );
    t.deepEqual(inner.prefixes, []);
    t.true((await store.listLevel('')).prefixes.includes('level/'));
    t.deepEqual(await store.listLevel('level/none/'), { objects: [], prefixes: [] });
  });

  test(`${n}: deleting removes the object, and deleting an absent key is not an error.`, async (t) => {
    await store.put('delete/me.txt', 'bye');
    await store.delete('delete/me.txt');
    t.is(await store.head('delete/me.txt'), undefined);
    await t.throwsAsync(store.get('delete/me.txt'), { instanceOf: NotFoundError });
    await t.notThrowsAsync(store.delete('delete/me.txt'));
    await t.notThrowsAsync(store.delete('delete/never-was.txt'));
    t.deepEqual(await store.listLevel('delete/'), { objects: [], prefixes: [] });
  });

  if (backend.enforcesConditions) {
    registerConditionalContract(
      n,
      () => store,
      () => lake,
    );
  } else {
    test(`${n}: a conditional put throws ConfigError and writes nothing when the store does not enforce conditions.`, async (t) => {
      const refused = { instanceOf: ConfigError, message: (m: string) => m.includes('conditional writes') && m.includes(String(backend.settings().endpoint)) };
      await t.throwsAsync(store.put('conditional/refused.json', '{}', { ifNoneMatch: '*' }), refused);
      t.is(await store.head('conditional/refused.json'), undefined);
      const original = await store.put('conditional/kept.json', 'original');
      await t.throwsAsync(store.put('conditional/kept.json', 'replaced', { ifMatch: original.etag }), refused);
      t.is(Buffer.from(await store.get('conditional/kept.json')).toString('utf8'), 'original');
    });
  }
}

/** Conditional writes on a store that enforces them: first wins, stale loses, races have one winner. */
function registerConditionalContract(n: string, store: () => ObjectStore, lake: () => LakeLocation): void {
  test(`${n}: the first create-only put wins, and the second throws PreconditionFailedError and leaves the first's content.`, async (t) => {
    const first = await store().put('conditional/create.json', 'first', { ifNoneMatch: '*' });
    t.is((await store().head('conditional/create.json'))?.etag, first.etag);
    await t.throwsAsync(store().put('conditional/create.json', 'second', { ifNoneMatch: '*' }), {
      instanceOf: PreconditionFailedError,
      message: (m) => m.includes('conditional/create.json'),
    });
    t.is(Buffer.from(await store().get('conditional/create.json')).toString('utf8'), 'first');
  });

  test(`${n}: a put conditioned on the current etag succeeds, and one on a stale etag throws PreconditionFailedError.`, async (t) => {
    const v1 = await store().put('conditional/replace.json', 'v1');
    const v2 = await store().put('conditional/replace.json', 'v2', { ifMatch: v1.etag });
    t.not(v2.etag, v1.etag);
    await t.throwsAsync(store().put('conditional/replace.json', 'v3', { ifMatch: v1.etag }), { instanceOf: PreconditionFailedError });
    t.is(Buffer.from(await store().get('conditional/replace.json')).toString('utf8'), 'v2');
    const v4 = await store().put('conditional/replace.json', 'v4', { ifMatch: `"${v2.etag}"` });
    t.is((await store().head('conditional/replace.json'))?.etag, v4.etag, 'a quoted etag is accepted too');
    await t.throwsAsync(store().put('conditional/absent.json', 'x', { ifMatch: v4.etag }), { instanceOf: PreconditionFailedError });
    t.is(await store().head('conditional/absent.json'), undefined);
  });

  test(`${n}: of several racing create-only puts of one key exactly one wins, round after round.`, async (t) => {
    for (let round = 0; round < 10; round++) {
      const key = `conditional/race-create-${round}.bin`;
      const bodies = Array.from({ length: 6 }, () => randomBytes(256 * 1024));
      const results = await Promise.allSettled(bodies.map((body) => store().put(key, body, { ifNoneMatch: '*' })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      t.is(winners.length, 1, `round ${round}`);
      t.true(results.every((r) => r.status === 'fulfilled' || r.reason instanceof PreconditionFailedError));
      t.true(Buffer.from(await store().get(key)).equals(bodies[winners[0] ?? -1] ?? Buffer.alloc(0)));
    }
  });

  test(`${n}: of several puts racing on one etag exactly one wins, round after round.`, async (t) => {
    for (let round = 0; round < 10; round++) {
      const key = `conditional/race-replace-${round}.bin`;
      const base = await store().put(key, `base ${round}`);
      const bodies = Array.from({ length: 6 }, () => randomBytes(256 * 1024));
      const results = await Promise.allSettled(bodies.map((body) => store().put(key, body, { ifMatch: base.etag })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      t.is(winners.length, 1, `round ${round}`);
      t.true(results.every((r) => r.status === 'fulfilled' || r.reason instanceof PreconditionFailedError));
      t.true(Buffer.from(await store().get(key)).equals(bodies[winners[0] ?? -1] ?? Buffer.alloc(0)));
    }
  });

  test(`${n}: compare-and-swap increments from three processes lose no update.`, async (t) => {
    await store().put('conditional/counter', '0\n');
    const worker = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'store-cas-worker.js');
    const runs = await Promise.all([0, 1, 2].map(() => promisify(execFile)(process.execPath, [worker, lake().uri, 'conditional/counter', '25'])));
    const reports = runs.map((r) => JSON.parse(r.stdout) as { made: number; lost: number });
    t.deepEqual(
      reports.map((r) => r.made),
      [25, 25, 25],
    );
    t.is(
      Buffer.from(await store().get('conditional/counter'))
        .toString('utf8')
        .split('\n')[0],
      '75',
    );
  });
}

// ---- FileStore only ----------------------------------------------------------------------------

test('FileStore: keys that could leave the lake root or clash with its own files are rejected.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-keys-'));
  const store = openStore(parseLakeUri(`file://${root}/lake`), fileSettings);
  const reserved = ['.carepipe-locks/x', '.carepipe/etag/x.json', 'a/.carepipe', 'a/.carepipe-etag.b.parquet'];
  for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', 'a/', '', './a', ...reserved]) {
    await t.throwsAsync(store.put(key, 'x'), { instanceOf: InvalidInputError }, `put ${JSON.stringify(key)}`);
    await t.throwsAsync(store.get(key), { instanceOf: InvalidInputError }, `get ${JSON.stringify(key)}`);
    await t.throwsAsync(store.head(key), { instanceOf: InvalidInputError }, `head ${JSON.stringify(key)}`);
    await t.throwsAsync(store.delete(key), { instanceOf: InvalidInputError }, `delete ${JSON.stringify(key)}`);
  }
  await t.throwsAsync(collect(store.list('../')), { instanceOf: InvalidInputError });
  await t.throwsAsync(collect(store.list('.carepipe/etag/')), { instanceOf: InvalidInputError });
  await store.put('kept', 'x');
  t.deepEqual(
    (await collect(store.list(''))).map((o) => o.key),
    ['kept'],
    "the store's own tree is never listed",
  );
  t.deepEqual((await store.listLevel('')).prefixes, []);
  t.false(existsSync(join(root, 'escape')));
  await rm(root, { recursive: true, force: true });
});

test('FileStore: a listing after a key reads no folder and no object wholly before it.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-after-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const days = Array.from({ length: 30 }, (_, d) => `raw/t/ingest_date=2025-01-${String(d + 1).padStart(2, '0')}/`);
  for (const prefix of days) for (const f of ['a.parquet', 'b.parquet']) await store.put(prefix + f, f);
  // The folders the store reads and the objects it describes, by spying on the instance.
  const spied = store as unknown as { entries(dirKey: string, namePrefix: string): Promise<unknown>; head(key: string): Promise<unknown> };
  const folders: string[] = [];
  const heads: string[] = [];
  const entries = spied.entries.bind(store);
  const head = spied.head.bind(store);
  spied.entries = (dirKey, namePrefix) => (folders.push(dirKey), entries(dirKey, namePrefix));
  spied.head = (key) => (heads.push(key), head(key));
  const listed = (await collect(store.list('raw/', { startAfter: `${days[27]}a.parquet` }))).map((o) => o.key);
  t.deepEqual(listed, [`${days[27]}b.parquet`, `${days[28]}a.parquet`, `${days[28]}b.parquet`, `${days[29]}a.parquet`, `${days[29]}b.parquet`]);
  t.deepEqual(folders, ['raw/', 'raw/t/', days[27], days[28], days[29]]);
  t.deepEqual(heads, listed);
  await rm(root, { recursive: true, force: true });
});

test("FileStore: a file replaced behind the store's back gets a new etag, and head and list agree on it.", async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-etag-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const put = await store.put('data/file.txt', 'written by the store');
  await writeFile(join(root, 'data', 'file.txt'), 'written by someone else');
  const head = await store.head('data/file.txt');
  t.not(head?.etag, put.etag);
  t.deepEqual(
    (await collect(store.list('data/'))).map((o) => [o.etag, o.size]),
    [[head?.etag, 23]],
  );
  await t.throwsAsync(store.put('data/file.txt', 'x', { ifMatch: put.etag }), { instanceOf: PreconditionFailedError });
  await rm(root, { recursive: true, force: true });
});

test('FileStore: reading and listing files the store did not write writes nothing anywhere in the lake.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-foreign-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const folder = join(root, 'raw', 'labs', 'ingest_date=2025-01-01');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'part-0.parquet'), 'written by the producer');
  const head = await store.head('raw/labs/ingest_date=2025-01-01/part-0.parquet');
  t.is(head?.size, 23);
  t.deepEqual(
    (await collect(store.list('raw/'))).map((o) => o.etag),
    [head?.etag],
  );
  t.deepEqual(await filesUnder(root), ['raw/labs/ingest_date=2025-01-01/part-0.parquet']);
  t.deepEqual(await readdir(root), ['raw']);
  await rm(root, { recursive: true, force: true });
});

test('FileStore: writes of every kind, won or lost, leave no file on disk but the objects themselves.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-only-objects-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const a = await store.put('curated/a.parquet', 'a1');
  await store.put('curated/a.parquet', 'a2', { ifMatch: a.etag });
  await t.throwsAsync(store.put('curated/a.parquet', 'a3', { ifMatch: a.etag }), { instanceOf: PreconditionFailedError });
  await store.put('curated/b.parquet', chunked(randomBytes(300 * 1024), 4096), { ifNoneMatch: '*' });
  await t.throwsAsync(store.put('curated/b.parquet', 'b2', { ifNoneMatch: '*' }), { instanceOf: PreconditionFailedError });
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`features/v/part-${i}.parquet`, `part ${i}`)));
  await store.put('manifests/gone.json', '{}');
  await store.delete('manifests/gone.json');
  await collect(store.list(''));
  const objects = (await collect(store.list(''))).map((o) => o.key);
  t.is(objects.length, 22);
  t.deepEqual(await filesUnder(root), objects.sort(compareKeys), 'one file per object, and nothing else');
  await rm(root, { recursive: true, force: true });
});

test('FileStore: a rewrite with the same bytes gets a new etag, so an ifMatch on the old one loses.', async (t) => {
  // S3 keeps the ETag of identical content; FileStore's tag names the version, which is stricter
  // and still right for a compare-and-swap: the reader re-reads and tries again.
  const root = await mkdtemp(join(tmpdir(), 'carepipe-same-bytes-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const v1 = await store.put('alias/champion.json', '{"version":"1"}');
  const v2 = await store.put('alias/champion.json', '{"version":"1"}');
  t.not(v2.etag, v1.etag);
  await t.throwsAsync(store.put('alias/champion.json', '{"version":"2"}', { ifMatch: v1.etag }), { instanceOf: PreconditionFailedError });
  t.is((await store.put('alias/champion.json', '{"version":"2"}', { ifMatch: v2.etag })).size, 15);
  await rm(root, { recursive: true, force: true });
});

test("FileStore: a new version's mtime is later than the one it replaces, even when the clock says otherwise.", async (t) => {
  // ext4 hands a freed inode straight back, and older kernels stamp mtime once a clock tick, so
  // without this a quick same-size rewrite could take back an earlier version's etag. A version
  // stamped an hour ahead stands for "same tick": the next write must still land after it.
  const root = await mkdtemp(join(tmpdir(), 'carepipe-mtime-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const path = join(root, 'alias', 'champion.json');
  const v1 = await store.put('alias/champion.json', 'v1');
  const ahead = new Date(Date.now() + 3_600_000);
  await utimes(path, ahead, ahead);
  const ahead1 = await store.head('alias/champion.json');
  const tags = new Set([v1.etag, ahead1?.etag]);
  let previous = (await stat(path, { bigint: true })).mtimeNs;
  for (let i = 2; i < 40; i++) {
    const v = await store.put('alias/champion.json', `v${i % 10}`, i % 2 === 0 ? { ifMatch: [...tags].at(-1) } : {});
    const mtimeNs = (await stat(path, { bigint: true })).mtimeNs;
    t.true(mtimeNs > previous, `version ${i}`);
    t.is((await store.head('alias/champion.json'))?.etag, v.etag);
    tags.add(v.etag);
    previous = mtimeNs;
  }
  t.is(tags.size, 40, "no version took back an earlier one's etag");
  await t.throwsAsync(store.put('alias/champion.json', 'late', { ifMatch: ahead1?.etag }), { instanceOf: PreconditionFailedError });
  await rm(root, { recursive: true, force: true });
});

test('FileStore: what earlier versions kept (the .carepipe/ etag tree, .carepipe-etag.* sidecars) is never listed and changes no etag.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-legacy-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  await mkdir(join(root, 'data'));
  await mkdir(join(root, '.carepipe', 'etag', 'data'), { recursive: true });
  const stale = JSON.stringify({ etag: md5Hex('stale'), ino: '0', size: '0', mtimeNs: '0' });
  for (const name of ['a.parquet', 'b.parquet']) {
    await writeFile(join(root, 'data', name), name);
    await writeFile(join(root, 'data', `.carepipe-etag.${name}`), stale);
    await writeFile(join(root, '.carepipe', 'etag', 'data', `${name}.json`), stale);
  }
  const listed = await collect(store.list(''));
  t.deepEqual(
    listed.map((o) => o.key),
    ['data/a.parquet', 'data/b.parquet'],
  );
  t.deepEqual(
    listed.map((o) => o.etag),
    [(await store.head('data/a.parquet'))?.etag, (await store.head('data/b.parquet'))?.etag],
  );
  t.false(listed.some((o) => o.etag === md5Hex('stale')));
  t.deepEqual((await store.listLevel('')).prefixes, ['data/']);
  const a2 = await store.put('data/a.parquet', 'rewritten', { ifMatch: listed[0]?.etag });
  t.is((await store.head('data/a.parquet'))?.etag, a2.etag);
  await store.delete('data/b.parquet');
  t.deepEqual(
    (await collect(store.list(''))).map((o) => o.key),
    ['data/a.parquet'],
  );
  await rm(root, { recursive: true, force: true });
});

/** Every file under `root`, dot-files and the store's own folders included, as sorted keys. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort(compareKeys);
}

// ---- S3Store only ------------------------------------------------------------------------------

test('S3Store: conditional writes are trusted as atomic on AWS S3 and on no other endpoint unless configured.', (t) => {
  const lake = parseLakeUri('s3://carepipe-lake');
  const aws = parseConfig({ CAREPIPE_S3_ENDPOINT: 'aws' }).s3;
  const local = parseConfig({}).s3;
  const declared = parseConfig({ CAREPIPE_S3_CONDITIONAL_WRITES: 'atomic' }).s3;
  t.deepEqual(
    [aws, local, declared].map((s) => s.conditionalWrites),
    ['atomic', 'per-request', 'atomic'],
  );
  const stores = [aws, local, declared].map((s) => openStore(lake, s));
  t.deepEqual(
    stores.map((s) => s.capabilities.conditionalCreate),
    [true, false, true],
  );
  for (const s of stores) s.close();
});

test('FileStore: a lock left by a process that died is broken, and the write goes through.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-lock-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings);
  const v1 = await store.put('alias/champion.json', '{"version":"1"}');
  const lock = lockPath(root, 'alias/champion.json');
  await mkdir(dirname(lock), { recursive: true });
  await writeFile(lock, JSON.stringify({ host: hostname(), pid: await deadPid(), token: 'left-behind' }));
  const v2 = await store.put('alias/champion.json', '{"version":"2"}', { ifMatch: v1.etag });
  t.is((await store.head('alias/champion.json'))?.etag, v2.etag);
  t.not(v2.etag, v1.etag);
  t.false(existsSync(lock), 'the lock is released after the write');
  await rm(root, { recursive: true, force: true });
});

test('FileStore: a lock held by a live process makes a write wait, then fail with TransientError.', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carepipe-lock-'));
  const store = openStore(parseLakeUri(`file://${root}`), fileSettings, { lock: { waitMs: 200 } });
  const lock = lockPath(root, 'alias/busy.json');
  await mkdir(dirname(lock), { recursive: true });
  await writeFile(lock, JSON.stringify({ host: hostname(), pid: process.pid, token: 'held-elsewhere' }));
  await t.throwsAsync(store.put('alias/busy.json', 'x'), { instanceOf: TransientError, message: (m) => m.includes(lock) });
  t.is(await store.head('alias/busy.json'), undefined);
  await rm(lock);
  t.is((await store.put('alias/busy.json', 'x')).size, 1);
  t.is(Buffer.from(await store.get('alias/busy.json')).toString('utf8'), 'x');
  await rm(root, { recursive: true, force: true });
});

test('S3Store: ensureBucket can be called again on an existing bucket.', async (t) => {
  const lake = parseLakeUri(`s3://${uniqueBucket('ensure-bucket')}`);
  await ensureBucket(lake, testS3Settings());
  await t.notThrowsAsync(ensureBucket(lake, testS3Settings()));
  const store = openStore(lake, testS3Settings());
  t.is((await store.put('x', 'y')).etag, md5Hex('y'));
  store.close();
});

test('S3Store: a wrong secret key fails with ConfigError naming the endpoint.', async (t) => {
  const settings = testS3Settings();
  const lake = parseLakeUri(`s3://${uniqueBucket('wrong-secret')}`);
  await ensureBucket(lake, settings);
  const store = openStore(lake, { ...settings, credentials: { accessKeyId: settings.credentials?.accessKeyId ?? '', secretAccessKey: 'not-the-secret' } });
  await t.throwsAsync(store.get('any'), {
    instanceOf: ConfigError,
    message: (m) => m.includes(String(settings.endpoint)) && m.includes('SignatureDoesNotMatch'),
  });
  store.close();
});

test('S3Store: a bucket that does not exist fails with ConfigError naming the bucket.', async (t) => {
  const bucket = uniqueBucket('no-such-bucket');
  const store = openStore(parseLakeUri(`s3://${bucket}`), testS3Settings());
  await t.throwsAsync(store.get('any'), { instanceOf: ConfigError, message: (m) => m.includes(`"${bucket}"`) });
  await t.throwsAsync(collect(store.list('')), { instanceOf: ConfigError });
  store.close();
});

test('S3Store: an endpoint nobody listens on fails with TransientError.', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const store = openStore(parseLakeUri('s3://carepipe-lake'), { ...testS3Settings(), endpoint: `http://127.0.0.1:${port}` });
  const err = await t.throwsAsync(store.get('any'), { instanceOf: TransientError });
  t.true(err?.retryable);
  store.close();
});

test('S3Store: on a per-request server (the default off AWS), lost conditional puts throw PreconditionFailedError.', async (t) => {
  // versitygw 1.7.0 checks conditions one request at a time (not atomically with the write), so
  // this covers the 412 mapping, including a multipart create-only put, but no race; the store
  // does not claim atomic conditions.
  const settings = testS3Settings();
  const lake = parseLakeUri(`s3://${uniqueBucket('per-request')}/lake`);
  await ensureBucket(lake, settings);
  const store = openStore(lake, settings);
  t.deepEqual(store.capabilities, { conditionalCreate: false, conditionalReplace: false });
  await store.put('c/create.json', 'first', { ifNoneMatch: '*' });
  await t.throwsAsync(store.put('c/create.json', 'second', { ifNoneMatch: '*' }), { instanceOf: PreconditionFailedError });
  await t.throwsAsync(store.put('c/create.json', randomBytes(6 * 1024 * 1024), { ifNoneMatch: '*' }), { instanceOf: PreconditionFailedError });
  await t.throwsAsync(store.put('c/create.json', 'third', { ifMatch: md5Hex('stale') }), { instanceOf: PreconditionFailedError });
  await t.throwsAsync(store.put('c/absent.json', 'x', { ifMatch: md5Hex('first') }), { instanceOf: PreconditionFailedError });
  const replaced = await store.put('c/create.json', 'fourth', { ifMatch: md5Hex('first') });
  t.is(replaced.etag, md5Hex('fourth'));
  t.is(Buffer.from(await store.get('c/create.json')).toString('utf8'), 'fourth');
  t.is(await store.head('c/absent.json'), undefined);
  store.close();
});

// ---- Pure helpers ------------------------------------------------------------------------------

test('S3 errors map to domain errors by code and status, keeping the cause.', (t) => {
  const ctx = { op: 'get', endpoint: 'http://s3.test', bucket: 'b', objectUri: 's3://b/k' };
  const sdk = (name: string, status?: number) => Object.assign(new Error('server text'), { name, $metadata: { httpStatusCode: status } });
  const cases: [Error, unknown][] = [
    [sdk('SlowDown', 503), TransientError],
    [sdk('InternalError', 500), TransientError],
    [Object.assign(new Error('socket'), { code: 'ECONNRESET' }), TransientError],
    [sdk('ConditionalRequestConflict', 409), PreconditionFailedError],
    [sdk('PreconditionFailed', 412), PreconditionFailedError],
    [sdk('NoSuchKey', 404), NotFoundError],
    [sdk('AccessDenied', 403), ConfigError],
    [sdk('InvalidAccessKeyId', 403), ConfigError],
    [sdk('NoSuchBucket', 404), ConfigError],
    [sdk('InvalidRange', 416), InvalidInputError],
  ];
  for (const [err, expected] of cases) {
    const mapped = mapS3Error(err, ctx) as Error;
    t.true(mapped instanceof (expected as typeof Error), err.name);
    t.is(mapped.cause, err);
    t.false(mapped.message.includes('server text'));
  }
  t.true(mapS3Error(sdk('NoSuchKey', 404), { ...ctx, op: 'put', conditionalReplace: true }) instanceof PreconditionFailedError);
  const unknown = sdk('InvalidArgument', 400);
  t.is(mapS3Error(unknown, ctx), unknown);
});

test('joinKey joins parts with single slashes and keeps a final slash.', (t) => {
  t.is(joinKey('features/', '/ds', 'v1/'), 'features/ds/v1/');
  t.is(joinKey('registry', 'm', 'v2', 'model.json'), 'registry/m/v2/model.json');
  t.is(joinKey('', 'a', ''), 'a');
  t.is(joinKey(), '');
});

test('Keys compare in UTF-8 byte order, as S3 lists them.', (t) => {
  t.deepEqual(['é', 'a/b', '\u{1F600}', 'a-c', '\uFF5E', 'z'].sort(compareKeys), ['a-c', 'a/b', 'z', 'é', '\uFF5E', '\u{1F600}']);
});
