/**
 * The curator pool (worker threads running curateFile) against inline curation, on real files
 * from the generator and the Parquet fixtures: identical outcomes, byte for byte, one at a time
 * and many at once; corrupt files quarantined; a thread that dies fails only its request and is
 * replaced; the same bytes killing threads twice are quarantined; close() drains, then refuses.
 * Thread deaths are provoked by the thread's test-only hooks (curator-thread.ts, ThreadTestHook).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MockActivityEnvironment } from '@temporalio/testing';
import test, { type ExecutionContext } from 'ava';
import type { CurateOutcome, CurateRequest } from '../../activities/ingest/curate.js';
import { createCuratorPool, type CuratorPool, type CuratorPoolOptions } from '../../activities/ingest/curator-pool.js';
import { inlineCurator } from '../../activities/ingest/ingest-file.js';
import { parseConfig } from '../../core/config.js';
import { ConfigError, InvalidInputError, TransientError } from '../../core/errors.js';
import type { RawTable } from '../../data-lake/layout.js';
import { encodeFile, generateRawFiles, type RawFile } from '../../data-lake/generator/index.js';

const FIXTURES = new URL('../../../tests/fixtures/parquet/', import.meta.url);
const KEY = { id: 'pseudo-pool', secret: createHash('sha256').update('carepipe curator pool test key').digest() };

interface Sample {
  file: RawFile;
  bytes: Uint8Array;
  inline: CurateOutcome;
}

function requestOf(file: Pick<RawFile, 'key' | 'table' | 'ingestDate' | 'fileName'>, bytes: Uint8Array, source = file.key): CurateRequest {
  return { bytes, source, table: file.table, ingestDate: file.ingestDate, fileName: file.fileName, bucketCount: 8, pseudonymKey: KEY };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let samples: Sample[] = [];
const pools: CuratorPool[] = [];

test.before(async () => {
  // Mild messiness (rejected and corrected rows) plus the corrupt mode's odd files.
  for await (const file of generateRawFiles({ patients: 300, days: 3, seed: 11, messiness: { corrupt: true } })) {
    if (file.kind !== 'raw') continue;
    const bytes = encodeFile(file);
    samples.push({ file, bytes, inline: await inlineCurator(requestOf(file, bytes)) });
  }
  samples = samples.sort((a, b) => b.bytes.byteLength - a.bytes.byteLength);
});

test.after.always(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function pool(options: Partial<CuratorPoolOptions> = {}): CuratorPool {
  const p = createCuratorPool({ threads: 2, ...options });
  pools.push(p);
  return p;
}

function sampleOf(t: ExecutionContext, predicate: (s: Sample) => boolean): Sample {
  const s = samples.find(predicate);
  if (!s) throw new Error(`${t.title}: no generated file fits`);
  return s;
}

test.serial('The pool curates every file of every table to the same fragments, rejects and counts as inline curation.', async (t) => {
  const p = pool();
  t.is(p.size, 2);
  const tables = new Set<RawTable>();
  let withRejects = 0;
  let quarantined = 0;
  for (const s of samples) {
    const before = sha(s.bytes);
    const outcome = await p(requestOf(s.file, s.bytes));
    t.deepEqual(outcome, s.inline, s.file.key);
    t.is(sha(s.bytes), before, `${s.file.key}: the caller's bytes are untouched`);
    tables.add(s.file.table);
    if (outcome.kind === 'curated' && outcome.rejects) withRejects++;
    if (outcome.kind === 'quarantine') quarantined++;
  }
  t.deepEqual([...tables].sort(), ['diagnoses', 'encounters', 'lab_results', 'patients']);
  t.true(withRejects > 0, 'some files have rejected rows');
  t.true(quarantined > 0, 'the corrupt mode quarantines some files');
  t.true(
    samples.some((s) => s.inline.kind === 'curated' && s.inline.buckets.length > 1),
    'some files span several buckets',
  );
});

test.serial('Every generated file sent at once to a two-thread pool completes and matches inline curation, a view into a bigger buffer too.', async (t) => {
  const p = pool();
  const chosen = samples;
  t.true(chosen.length >= 10, `${chosen.length} files`);
  // The largest file arrives as a view in the middle of a bigger buffer, as a pooled Buffer would.
  const first = chosen[0]!;
  const big = new Uint8Array(first.bytes.byteLength + 1000).fill(0xee);
  big.set(first.bytes, 500);
  const view = big.subarray(500, 500 + first.bytes.byteLength);
  const outcomes = await Promise.all(chosen.map((s, i) => p(requestOf(s.file, i === 0 ? view : s.bytes))));
  outcomes.forEach((outcome, i) => t.deepEqual(outcome, chosen[i]!.inline, chosen[i]!.file.key));
  t.is(big[499], 0xee);
  t.is(sha(view), sha(first.bytes), 'the caller keeps its view');
  t.deepEqual(p.stats(), { threads: 2, busy: 0, queued: 0, threadDeaths: 0 });
});

test.serial('Corrupt bytes come back as a quarantine outcome, the same as inline, and a WebAssembly trap stays inside the thread.', async (t) => {
  const p = pool();
  const truncated = sampleOf(t, (s) => s.file.corruption === 'truncated');
  const trap = readFileSync(new URL('corrupt_trap.parquet', FIXTURES));
  const cases: [string, CurateRequest][] = [
    ['truncated', requestOf(truncated.file, truncated.bytes)],
    ['trap', requestOf(truncated.file, trap, 'raw/lab_results/ingest_date=2025-01-01/corrupt_trap.parquet')],
    ['not parquet', requestOf(truncated.file, new TextEncoder().encode('not a parquet file at all'), 'raw/lab_results/ingest_date=2025-01-01/text.parquet')],
  ];
  for (const [name, req] of cases) {
    const outcome = await p(req);
    t.deepEqual(outcome, await inlineCurator(req), name);
    t.is(outcome.kind, 'quarantine', name);
    t.is(outcome.kind === 'quarantine' ? outcome.reasonType : '', 'CorruptFileError', name);
  }
  const trapped = await p(cases[1]![1]);
  t.deepEqual(trapped, {
    kind: 'quarantine',
    reasonType: 'CorruptFileError',
    reason: 'parquet: cannot read raw/lab_results/ingest_date=2025-01-01/corrupt_trap.parquet: parquet-wasm trapped (unreachable) and was restarted',
  });
  t.is(p.stats().threadDeaths, 0);
});

test.serial('A thread killed mid-request fails that request with a TransientError, and the queued requests complete on a replacement thread.', async (t) => {
  const p = pool({
    testHooks: [
      { source: '/exit.parquet', action: 'exit' },
      { source: '/uncaught.parquet', action: 'uncaught' },
    ],
  });
  const victim = sampleOf(t, (s) => s.file.table === 'lab_results' && s.inline.kind === 'curated');
  const others = samples.filter((s) => s.inline.kind === 'curated' && s !== victim).slice(0, 5);
  const killer = p(requestOf(victim.file, victim.bytes, 'raw/lab_results/ingest_date=2025-01-01/exit.parquet'));
  const rest = others.map((s) => p(requestOf(s.file, s.bytes)));
  const err = await t.throwsAsync(killer, { instanceOf: TransientError });
  t.is(
    err.message,
    'curator: the thread curating raw/lab_results/ingest_date=2025-01-01/exit.parquet died (exit code 70); ' +
      'retried, and quarantined if the same bytes kill a thread again in this process',
  );
  const outcomes = await Promise.all(rest);
  outcomes.forEach((outcome, i) => t.deepEqual(outcome, others[i]!.inline, others[i]!.file.key));

  // An uncaught exception kills the thread just the same.
  const other = others[0]!;
  const uncaught = await t.throwsAsync(p(requestOf(other.file, other.bytes, 'raw/x/ingest_date=2025-01-01/uncaught.parquet')), { instanceOf: TransientError });
  t.is(
    uncaught.message,
    'curator: the thread curating raw/x/ingest_date=2025-01-01/uncaught.parquet died (uncaught Error); ' +
      'retried, and quarantined if the same bytes kill a thread again in this process',
  );
  t.is((uncaught.cause as Error).message, 'curator test hook: uncaught exception');
  t.deepEqual(await p(requestOf(victim.file, victim.bytes)), victim.inline, 'the same bytes under a source that does not kill');
  t.deepEqual(p.stats(), { threads: 2, busy: 0, queued: 0, threadDeaths: 2 });
});

test.serial('The same bytes killing a thread twice end as a quarantine outcome naming the source; other bytes get their own count.', async (t) => {
  const p = pool({ testHooks: [{ source: '/poison.parquet', action: 'exit' }] });
  const [a, b] = samples.filter((s) => s.inline.kind === 'curated');
  const source = 'raw/encounters/ingest_date=2025-01-02/poison.parquet';
  await t.throwsAsync(p(requestOf(a!.file, a!.bytes, source)), { instanceOf: TransientError });
  await t.throwsAsync(p(requestOf(b!.file, b!.bytes, source)), { instanceOf: TransientError }, 'different bytes: a first death');
  // The same bytes again, as a copy at another address: counted by content, not by buffer.
  t.deepEqual(await p(requestOf(a!.file, new Uint8Array(a!.bytes), source)), {
    kind: 'quarantine',
    reasonType: 'CorruptFileError',
    reason: `curator: curating ${source} killed a curator thread 2 times (last: exit code 70); quarantined rather than retried`,
  });
  t.is(p.stats().threadDeaths, 3);
  t.deepEqual(await p(requestOf(b!.file, b!.bytes)), b!.inline, 'the pool still curates');
});

test.serial('An error thrown inside the thread comes back as the same class with the same message.', async (t) => {
  const p = pool({ testHooks: [{ source: '/refuse.parquet', action: 'throw' }] });
  const s = sampleOf(t, (x) => x.inline.kind === 'curated');
  const source = 'raw/patients/ingest_date=2025-01-01/refuse.parquet';
  const refused = await t.throwsAsync(p(requestOf(s.file, s.bytes, source)), { instanceOf: InvalidInputError });
  t.is(refused.message, `curator test hook: refused ${source}`);
  t.is(refused.type, 'InvalidInputError');
  t.regex(refused.stack ?? '', /curator-thread\.[jt]s:\d+/);

  // A request for a table the contract does not know fails the same way on both paths.
  const req = { ...requestOf(s.file, s.bytes), table: 'vitals' as RawTable };
  const inline = await t.throwsAsync(inlineCurator(req));
  const pooled = await t.throwsAsync(p(req), { instanceOf: TypeError });
  t.is(pooled.name, inline.name);
  t.is(pooled.message, inline.message);
  t.is(p.stats().threadDeaths, 0);
});

test.serial('A request heartbeats the activity that sent it while it waits and while it runs.', async (t) => {
  const p = pool({ threads: 1, heartbeatMs: 1 });
  const [big, second] = samples;
  const env = new MockActivityEnvironment();
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  // The second request waits behind the first on the single thread: it heartbeats 'queued' first.
  const first = p(requestOf(big!.file, big!.bytes));
  const outcome = await env.run(() => p(requestOf(second!.file, second!.bytes)));
  await first;
  t.deepEqual(outcome, second!.inline);
  t.deepEqual(beats[0], { step: 'curate', state: 'queued' });
  t.true(
    beats.some((b) => (b as { state: string }).state === 'running'),
    JSON.stringify(beats.slice(-3)),
  );
  t.true(beats.every((b) => (b as { step: string }).step === 'curate'));
});

test.serial('close() finishes the requests already accepted, then refuses new work.', async (t) => {
  const p = pool();
  const chosen = samples.filter((s) => s.inline.kind === 'curated').slice(0, 4);
  const running = chosen.map((s) => p(requestOf(s.file, s.bytes)));
  const closed = p.close();
  const refused = await t.throwsAsync(p(requestOf(chosen[0]!.file, chosen[0]!.bytes)), { instanceOf: TransientError });
  t.is(refused.message, `curator: the pool is closed (the worker is shutting down); ${chosen[0]!.file.key} is retried elsewhere`);
  await closed;
  const outcomes = await Promise.all(running);
  outcomes.forEach((outcome, i) => t.deepEqual(outcome, chosen[i]!.inline));
  t.deepEqual(p.stats(), { threads: 0, busy: 0, queued: 0, threadDeaths: 0 });
  t.is(p.close(), closed, 'closing twice is the same close');
  t.throws(() => createCuratorPool({ threads: 0 }), {
    instanceOf: ConfigError,
    message: 'curator pool: threads must be a whole number from 1 to 256, got 0 (0 threads means curating inline, without a pool)',
  });
});

test('CAREPIPE_WORKER_CURATOR_THREADS defaults to the cores, takes 0 for inline curation, and rejects values outside 0 to 256.', (t) => {
  t.is(parseConfig({}).worker.curatorThreads, Math.min(availableParallelism(), 256));
  t.is(parseConfig({ CAREPIPE_WORKER_CURATOR_THREADS: '0' }).worker.curatorThreads, 0);
  t.is(parseConfig({ CAREPIPE_WORKER_CURATOR_THREADS: '256' }).worker.curatorThreads, 256);
  t.throws(() => parseConfig({ CAREPIPE_WORKER_CURATOR_THREADS: '257' }), {
    instanceOf: ConfigError,
    message: 'CAREPIPE_WORKER_CURATOR_THREADS must be between 0 and 256, got 257.',
  });
  t.throws(() => parseConfig({ CAREPIPE_WORKER_CURATOR_THREADS: 'all' }), {
    instanceOf: ConfigError,
    message: 'CAREPIPE_WORKER_CURATOR_THREADS must be a whole number, got "all".',
  });
});
