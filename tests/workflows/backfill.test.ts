/**
 * `carepipe backfill` on the real test stack. A generated lake is loaded once; then files arrive
 * late for past dates. A backfill re-ingests those dates and rebuilds exactly the feature buckets
 * the late files touched (the rest are reused by content hash). A backfill whose store refuses
 * one date's files fails naming that date; once the store is fixed, `--resume` runs only that
 * date. A rerun of a finished range skips every file and every shard.
 */
import test from 'ava';
import type { FileManifest } from '../../activities/ingest/outputs.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { resumeInput } from '../../cli/commands/backfill.js';
import { startBackfill } from '../../cli/runs.js';
import { ConfigError } from '../../core/errors.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { lake, parseRawKey } from '../../data-lake/layout.js';
import { SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import type { BackfillDateResult, BackfillFailureDetails, BackfillResult } from '../../schemas/workflows.js';
import { BACKFILL_INCOMPLETE } from '../../workflows/index.js';
import { runCli } from '../helpers/cli.js';
import { historyChain } from '../helpers/history-chain.js';
import { listKeys, readJsonObject, readTable, strings } from '../helpers/lake-scan.js';
import { pipelineCliEnv } from '../helpers/pipeline-cli.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { bindAuditKeys } from '../../activities/audit/log.js';

const BUCKETS = 16;
let env: PipelineEnv;
let store: ObjectStore;
let generation: GenerationSummary;
let dates: string[];
/** Raw files held back from the first load, delivered late by the tests: key -> bytes. */
const withheld = new Map<string, Uint8Array>();
/** While set, the store refuses to read raw files of this ingest date (as S3 does without permission). */
let refusedDate: string | undefined;
let initial: BackfillResult;
let initialId: string;
/** Far below the default: forces the date stage to continue as new after each date. */
const SMALL_HISTORY = 50;

const cli = (args: string[]) => runCli(args, pipelineCliEnv(env));
type BackfillJson = BackfillResult & { workflowId: string };

/** The lab file of a date with the fewest patients: a late file that touches few buckets. */
async function smallestLabFile(date: string): Promise<string> {
  let best: { key: string; patients: number } | undefined;
  for (const key of await listKeys(store, `raw/lab_results/ingest_date=${date}/`)) {
    const patients = new Set(strings(await readTable(store, key), 'patient_id')).size;
    if (patients > 0 && (!best || patients < best.patients)) best = { key, patients };
  }
  if (!best) throw new Error(`no lab file on ${date}`);
  return best.key;
}

/** The buckets a raw file's curated rows landed in, from its ingest manifest. */
async function bucketsOf(rawKey: string): Promise<number[]> {
  const p = parseRawKey(rawKey)!;
  const m = await readJsonObject<FileManifest>(store, lake.ingestFileManifest(p.table, p.date, p.fileName));
  return [...new Set(m.fragments.map((f) => f.bucket))].sort((a, b) => a - b);
}

async function builtBuckets(version: string): Promise<number[]> {
  const m = await readJsonObject<FeatureManifest>(store, lake.featureManifest('readmission', version));
  return m.shards
    .filter((s) => !s.reusedFrom)
    .map((s) => s.bucket)
    .sort((a, b) => a - b);
}

test.before(async () => {
  env = await createPipelineEnv('backfill');
  const original = env.deps.lake.bind(env.deps);
  const inner = original(env.lakeUri);
  // A wrapper is another store object: it gets the audit keys createDeps bound to the one it wraps.
  store = bindAuditKeys(
    new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'get') {
          return async (key: string) => {
            if (refusedDate && key.startsWith('raw/') && key.includes(`/ingest_date=${refusedDate}/`)) {
              throw new ConfigError(`get on ${key} was refused (AccessDenied): check the S3 credentials and the bucket's permissions.`);
            }
            return target.get(key);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }),
    { ring: auditKeyRing(env.keys) },
  );
  env.deps.lake = (uri) => (uri === env.lakeUri ? store : original(uri));
  generation = await writeRawLake(inner, { patients: 1500, days: 4, seed: 21, filesPerDay: 4, messiness: 'none' });
  dates = [0, 1, 2, 3].map((i) => new Date(Date.parse(`${generation.ingestDates.first}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10));
  for (const date of [dates[1]!, dates[2]!]) {
    const key = await smallestLabFile(date);
    withheld.set(key, await inner.get(key));
    await inner.delete(key);
  }
  await env.startWorkers();
  // A history limit below what four dates in flight may add: each run starts one date, then continues as new.
  initialId = `backfill/initial-${Date.now()}`;
  const handle = await startBackfill(
    env.client,
    env.config,
    {
      actor: TEST_ACTOR,
      lake: env.lakeUri,
      from: dates[0]!,
      to: dates[3]!,
      dataset: 'readmission',
      bucketCount: BUCKETS,
      historyLimit: SMALL_HISTORY,
    },
    initialId,
  );
  initial = await handle.result();
});

test.after.always(async () => {
  await env?.close();
});

test.serial('the initial load ingests every date, one child per date, and builds every bucket', (t) => {
  t.deepEqual(
    initial.dates.map((d) => [d.date, d.status]),
    dates.map((d) => [d, 'done']),
  );
  t.true(initial.dates.every((d) => d.files > 0 && d.skippedFiles === 0));
  t.is(initial.features.builtShards, initial.features.shards);
  t.is(initial.features.shards, BUCKETS);
  t.is(initial.retrain, null);
});

test.serial('the initial load runs its dates as a chain of runs that continue as new, each run short', async (t) => {
  const chain = await historyChain(env.client, initialId);
  t.is(chain.length, dates.length, 'one date a run under a limit smaller than the window needs');
  t.deepEqual(
    chain.map((r) => r.continuedAsNew),
    [...dates.slice(1).map(() => true), false],
  );
  // The last run also runs the features stage; the others hold one date's child each.
  for (const run of chain.slice(0, -1)) t.true(run.events.length <= SMALL_HISTORY, `${run.events.length} events`);
  const started = chain.map((r) =>
    r.events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId),
  );
  t.deepEqual(started, [...dates.map((d) => [`${initialId}/ingest/${d}`]).slice(0, -1), [`${initialId}/ingest/${dates[3]}`, `${initialId}/features`]]);
});

test.serial('a late file for one past date rebuilds exactly the feature buckets it touches, and reuses the rest', async (t) => {
  const late = [...withheld.keys()].find((k) => k.includes(`ingest_date=${dates[1]}/`))!;
  await store.put(late, withheld.get(late)!);
  const r = await cli(['backfill', '--from', dates[1]!, '--to', dates[1]!, '--buckets', String(BUCKETS), '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as BackfillJson;
  t.regex(out.workflowId, new RegExp(`^backfill/${dates[1]}\\.\\.${dates[1]}/\\d{8}T\\d{6}Z$`));
  const [day] = out.dates;
  t.is(out.dates.length, 1);
  t.is(day!.status, 'done');
  t.is(day!.skippedFiles, day!.files - 1, 'only the late file is new on that date');
  const touched = await bucketsOf(late);
  t.true(touched.length > 0 && touched.length < BUCKETS, `the late file touches ${touched.length} of ${BUCKETS} buckets`);
  t.not(out.features.version, initial.features.version);
  t.is(out.features.builtShards, touched.length);
  t.is(out.features.reusedShards, BUCKETS - touched.length);
  t.deepEqual(await builtBuckets(out.features.version), touched);
  const run = await env.client.workflow.getHandle(out.workflowId).describe();
  t.is(run.typedSearchAttributes.get(SA_TRIGGER), 'backfill');
  t.is(run.typedSearchAttributes.get(SA_STAGE), 'done');
  t.regex(
    (run.memo as { summary: string }).summary,
    new RegExp(
      `^1 dates, ${day!.files} files \\(${day!.files - 1} unchanged\\); features readmission@v-[0-9a-f]{16}: ${touched.length} of ${BUCKETS} shards rebuilt$`,
    ),
  );
});

let failedId: string;

test.serial('a backfill whose store refuses one date fails naming that date, after finishing the others', async (t) => {
  const late = [...withheld.keys()].find((k) => k.includes(`ingest_date=${dates[2]}/`))!;
  await store.put(late, withheld.get(late)!);
  refusedDate = dates[2];
  const r = await cli(['backfill', '--from', dates[0]!, '--to', dates[3]!, '--buckets', String(BUCKETS), '--json']);
  t.is(r.code, 1);
  const out = JSON.parse(r.stdout) as { workflowId: string; failed: BackfillDateResult[]; done: string[]; resume: string };
  failedId = out.workflowId;
  t.deepEqual(
    out.failed.map((f) => [f.date, f.status, f.errorType]),
    [[dates[2], 'failed', 'ConfigError']],
  );
  t.deepEqual(out.done, [dates[0], dates[1], dates[3]]);
  t.is(out.resume, `carepipe backfill --resume ${failedId}`);
  t.is(
    r.stderr,
    `carepipe: workflow ${failedId} failed: 1 of 4 dates failed (${dates[2]}); fix the cause and resume: carepipe backfill --resume ${failedId}\n`,
  );
  const status = async (date: string) => (await env.client.workflow.getHandle(`${failedId}/ingest/${date}`).describe()).status.name;
  t.deepEqual(await Promise.all(dates.map(status)), ['COMPLETED', 'COMPLETED', 'FAILED', 'COMPLETED']);
  const features = await env.client.workflow
    .getHandle(`${failedId}/features`)
    .describe()
    .catch(() => undefined);
  t.is(features, undefined, 'no features stage over a partial ingest');
});

test.serial('a failed backfill that continued as new fails the same way, and its resume names only the failed date', async (t) => {
  const id = `backfill/chain-failed-${Date.now()}`;
  const input = {
    actor: TEST_ACTOR,
    lake: env.lakeUri,
    from: dates[0]!,
    to: dates[3]!,
    dataset: 'readmission',
    bucketCount: BUCKETS,
    historyLimit: SMALL_HISTORY,
  };
  const handle = await startBackfill(env.client, env.config, input, id);
  const err = await t.throwsAsync(handle.result(), { instanceOf: WorkflowFailedError });
  const cause = err?.cause;
  t.true(cause instanceof ApplicationFailure && cause.type === BACKFILL_INCOMPLETE, String(cause));
  const details = (cause as ApplicationFailure).details?.[0] as BackfillFailureDetails;
  t.deepEqual(
    details.failed.map((f) => [f.date, f.errorType]),
    [[dates[2], 'ConfigError']],
  );
  t.deepEqual(details.done, [dates[0], dates[1], dates[3]]);
  t.deepEqual(details.input, input, "the input as given, without the chain's cursor");
  t.true((await historyChain(env.client, id)).length > 1);
  const resumed = await resumeInput(env.client, id, TEST_ACTOR);
  t.deepEqual(resumed, { ...input, dates: [dates[2]], resumeOf: id }, 'the memo carried the input across the runs');
});

test.serial('once the store is fixed, --resume redoes only the failed date and rebuilds the buckets its late file touched', async (t) => {
  refusedDate = undefined;
  const r = await cli(['backfill', '--resume', failedId, '--json']);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as BackfillJson;
  t.is(out.resumeOf, failedId);
  t.deepEqual(
    out.dates.map((d) => d.date),
    [dates[2]],
    'only the failed date runs again',
  );
  t.is(out.dates[0]!.skippedFiles, out.dates[0]!.files - 1, 'the late file is the one new file on it');
  const late = [...withheld.keys()].find((k) => k.includes(`ingest_date=${dates[2]}/`))!;
  const touched = await bucketsOf(late);
  t.is(out.features.builtShards, touched.length);
  t.deepEqual(await builtBuckets(out.features.version), touched);
  const described = await env.client.workflow.getHandle(out.workflowId).describe();
  t.is((described.memo as { resumeOf: string }).resumeOf, failedId);
});

test.serial('a rerun of the whole finished range skips every file and every shard, and --retrain gates a model with trigger=backfill', async (t) => {
  const r = await cli([
    'backfill',
    '--from',
    dates[0]!,
    '--to',
    dates[3]!,
    '--buckets',
    String(BUCKETS),
    '--retrain',
    '--model',
    'readmission-bf-test',
    '--json',
  ]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as BackfillJson;
  t.true(
    out.dates.every((d) => d.status === 'done' && d.skippedFiles === d.files),
    JSON.stringify(out.dates),
  );
  t.is(out.features.builtShards, 0);
  t.is(out.features.reusedShards, 0);
  t.is(out.features.skippedShards, BUCKETS, 'every shard of this version is already built');
  t.truthy(out.retrain);
  t.is(out.retrain!.candidates.length, 1);
  const retrain = await env.client.workflow.getHandle(`${out.workflowId}/retrain`).describe();
  t.is(retrain.typedSearchAttributes.get(SA_TRIGGER), 'backfill');
  t.is(retrain.status.name, 'COMPLETED');
});

test('bad backfill arguments are one-line usage errors (exit 2)', async (t) => {
  const cases: [string[], string][] = [
    [['backfill', '--from', '2025-01-01'], 'carepipe: give the dates: --from YYYY-MM-DD --to YYYY-MM-DD (or --resume <workflow id>)\n'],
    [['backfill', '--from', '2025-01-03', '--to', '2025-01-01'], 'carepipe: --from (2025-01-03) is after --to (2025-01-01)\n'],
    [['backfill', '--from', '2025-01-01', '--to', '2025-13-01'], 'carepipe: --to must be a date YYYY-MM-DD, got "2025-13-01"\n'],
    [['backfill', '--resume', 'backfill/x', '--from', '2025-01-01'], 'carepipe: --resume takes the dates of the run it resumes: drop --from and --to\n'],
    [['backfill', '--resume', 'backfill/none'], 'carepipe: --resume: no backfill run "backfill/none"\n'],
  ];
  for (const [args, stderr] of cases) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, stderr);
  }
});
