/**
 * `carepipe ingest` as ops and scripts run it: a `carepipe worker` process serves the queues, and
 * `carepipe ingest --json` prints the run's summary. Bad arguments stop it before anything starts.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { parseConfig } from '../../core/config.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import type { IngestSummary } from '../../schemas/workflows.js';
import { type BackgroundCli, cliEnv, runCli, startCli } from '../helpers/cli.js';
import { testKeyRing } from '../helpers/pipeline-env.js';
import { testS3Settings, testTemporalAddress, uniqueBucket } from '../helpers/services.js';

const codec = testKeyRing('e2e-ingest-codec');
const pseudonym = testKeyRing('e2e-ingest-pseudo');
const b64 = (r: typeof codec) => `${r.activeId}:${r.keys.get(r.activeId)!.toString('base64')}`;
const bucket = uniqueBucket('ingest-cli');
const vars = {
  CAREPIPE_TEMPORAL_ADDRESS: testTemporalAddress(),
  CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
  // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
  CAREPIPE_LOCAL_DEVELOPMENT: 'true',
  CAREPIPE_LAKE: 's3://carepipe-lake-not-this-one',
  // The worker serves the lake --lake names, not CAREPIPE_LAKE: it must be on the allow-list.
  CAREPIPE_LAKE_ALLOW: `s3://${bucket}`,
  CAREPIPE_TASK_QUEUE_PREFIX: `t-ingest-cli-${Date.now().toString(36)}`,
  CAREPIPE_CODEC_KEYS: b64(codec),
  CAREPIPE_PSEUDONYM_KEYS: b64(pseudonym),
  CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS: '3',
};
const lakeUri = `s3://${bucket}`;
let generation: GenerationSummary;
let worker: BackgroundCli;

test.before(async () => {
  const config = parseConfig({ ...vars, CAREPIPE_LAKE: lakeUri });
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  generation = await writeRawLake(store, { patients: 150, days: 3, seed: 5, messiness: { corrupt: true } });
  store.close();
  worker = startCli(['worker', '--queues', 'orchestration,data'], cliEnv(vars));
  while (!/"msg":"worker started"/.test(worker.output().stderr)) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early: ${worker.output().stderr}`);
    await sleep(100);
  }
});

test.after.always(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGINT');
    await worker.exited;
  }
});

type IngestJson = IngestSummary & { workflowId: string; url: string };
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

test.serial('carepipe ingest --json runs ingestWorkflow on a worker process and prints the summary scripts rely on', async (t) => {
  const r = await runCli(['ingest', '--lake', lakeUri, '--buckets', '8', '--json'], cliEnv(vars));
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as IngestJson;
  t.regex(out.workflowId, /^ingest\/\d{8}T\d{6}Z$/);
  t.is(out.url, `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(out.workflowId)}`);
  const quarantine = generation.corruptFiles.filter((f) => f.expected === 'quarantine');
  t.is(out.files, total(generation.filesByTable));
  t.is(out.rowsIn, total(generation.rows) - quarantine.reduce((a, f) => a + f.rows, 0));
  t.is(out.rowsIn, out.accepted + out.corrected + out.rejected);
  t.true(out.accepted > 0 && out.corrected > 0 && out.rejected > 0);
  t.is(out.quarantinedFiles, quarantine.length);
  t.deepEqual([...out.quarantined].sort(), quarantine.map((f) => f.key).sort());
  t.is(out.runs, 1);
  t.is(out.skippedFiles, 0);
  t.true(out.manifests.length > 0 && out.manifests.every((k) => k.startsWith('manifests/ingest/')));
  t.like(out.compaction, { generationsWritten: 4 * 8, dirtyDays: out.manifests.length }, 'the run ends with the curated zone compacted');
  t.true(out.compaction!.fragmentsDeleted >= 1 && out.compaction!.fragmentsDeleted <= out.compaction!.fragmentsFolded, 'files of a batch share fragments');

  // Once more: every file is unchanged, and the totals still describe the lake.
  const again = await runCli(['ingest', '--lake', lakeUri, '--buckets', '8', '--json'], cliEnv(vars));
  t.is(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout) as IngestJson;
  t.not(second.workflowId, out.workflowId);
  t.is(second.skippedFiles, second.files);
  t.like(second.compaction, { plan: '', dirtyDays: 0 }, 'nothing left to compact');
  t.deepEqual(
    { ...second, workflowId: '', url: '', skippedFiles: 0, quarantined: [...second.quarantined].sort(), compaction: null },
    { ...out, workflowId: '', url: '', skippedFiles: 0, quarantined: [...out.quarantined].sort(), compaction: null },
  );

  // The zone's objects grow with tables x buckets; a compaction of a compacted zone has nothing to do.
  const stats = await runCli(['lake', 'stats', '--lake', lakeUri, '--json'], cliEnv(vars));
  t.is(stats.code, 0, stats.stderr);
  const zones = JSON.parse(stats.stdout) as Record<string, { objects: number; bytes: number }>;
  t.is(zones['curated (generations)']?.objects, 4 * 8);
  t.is(zones['curated (records)']?.objects, 4 * 8);
  t.is(zones['curated (staged fragments)'], undefined, 'no staged fragment is left');
  const compact = await runCli(['lake', 'compact', '--lake', lakeUri, '--buckets', '8', '--json'], cliEnv(vars));
  t.is(compact.code, 0, compact.stderr);
  t.like(JSON.parse(compact.stdout), { plan: '', dirtyDays: 0, generationsWritten: 0 });
});

test('carepipe ingest without --json says what it did in lines a person reads', async (t) => {
  const r = await runCli(['ingest', '--lake', lakeUri, '--buckets', '8', '--from', generation.ingestDates.last], cliEnv(vars));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^started ingest\/\d{8}T\d{6}Z$/m);
  t.regex(r.stdout, /^\d+ files \(\d+ unchanged, \d+ quarantined\) in 1 run\(s\)$/m);
  t.regex(r.stdout, /^\d+ rows in = \d+ accepted \+ \d+ corrected \+ \d+ rejected$/m);
});

test('a date that does not exist is a usage error (exit 2) with a one-line message, and nothing starts', async (t) => {
  const r = await runCli(['ingest', '--lake', lakeUri, '--from', '2025-13-01', '--json'], cliEnv(vars));
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.is(r.stderr, 'carepipe: --from must be a date YYYY-MM-DD, got "2025-13-01"\n');
});

test('a range that ends before it starts is a usage error (exit 2)', async (t) => {
  const r = await runCli(['ingest', '--lake', lakeUri, '--from', '2025-01-03', '--to', '2025-01-01'], cliEnv(vars));
  t.is(r.code, 2);
  t.is(r.stderr, 'carepipe: --from (2025-01-03) is after --to (2025-01-01)\n');
});
