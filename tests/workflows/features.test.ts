/**
 * featuresWorkflow on the real test stack: the `carepipe features` command, the progress query,
 * continue-as-new between pages of the plan, a backfill that recomputes only the buckets it
 * touched (the others are copied from the previous version), and the fit map-reduce in the train
 * path (one partial per shard over the training patients, merged into the pipeline the trainer uses).
 */
import test from 'ava';
import { Table } from 'apache-arrow';
import { sha256Hex } from '../../activities/context.js';
import { fitPipeline } from '../../activities/features/fit-stats.js';
import type { FeatureManifest } from '../../activities/features/manifest-format.js';
import type { PreprocessingPipeline } from '../../activities/features/pipeline.js';
import { bucketOf, Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';
import { timestampMsVector, utf8Vector } from '../../activities/io/arrow-columns.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { readParquet, writeParquet } from '../../activities/io/parquet.js';
import { stringValues } from '../../activities/io/arrow-columns.js';
import { loadFeatureSet, splitByPatient } from '../../activities/train/feature-set.js';
import { startIngest } from '../../cli/runs.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import type { FeaturesInput, FeaturesResult } from '../../schemas/workflows.js';
import type { FeaturesProgress } from '../../workflows/features.js';
import { featuresProgressQuery, featuresWorkflow, trainWorkflow } from '../../workflows/index.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { listKeys } from '../helpers/lake-scan.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { testS3Settings } from '../helpers/services.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const BUCKETS = 8;
const DATASET = 'readmission';
let env: PipelineEnv;
let store: ObjectStore;
let first: FeaturesResult & { shardsUri: string; workflowId: string };

const runFeatures = (input: Partial<FeaturesInput> & { dataset: string }, id: string) =>
  env.client.workflow.start(featuresWorkflow, {
    workflowId: `features/${id}-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [{ actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: BUCKETS, ...input }],
  });

async function ingest(): Promise<void> {
  const handle = await startIngest(
    env.client,
    env.config,
    { actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: BUCKETS },
    'manual',
    `ingest/features-${Date.now()}`,
  );
  await handle.result();
}

const readManifest = async (version: string) =>
  JSON.parse(new TextDecoder().decode(await store.get(lake.featureManifest(DATASET, version)))) as FeatureManifest;

/** `carepipe features` against this file's stack, queues and keys. */
function featuresCli(...flags: string[]) {
  const key = (ring: typeof env.keys.codec) => `${ring.activeId}:${ring.keys.get(ring.activeId)!.toString('base64')}`;
  return runCli(
    ['features', '--lake', env.lakeUri, '--dataset', DATASET, '--buckets', String(BUCKETS), ...flags],
    cliEnv({
      CAREPIPE_TEMPORAL_ADDRESS: env.config.temporal.address,
      CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!,
      // versitygw accepts but does not confirm SSE: the local stack's explicit exception for PHI zones.
      CAREPIPE_LOCAL_DEVELOPMENT: 'true',
      CAREPIPE_TASK_QUEUE_PREFIX: env.queuePrefix,
      CAREPIPE_CODEC_KEYS: key(env.keys.codec),
      CAREPIPE_CODEC_KEY_ID: env.keys.codec.activeId,
      CAREPIPE_PSEUDONYM_KEYS: key(env.keys.pseudonym),
      CAREPIPE_PSEUDONYM_KEY_ID: env.keys.pseudonym.activeId,
    }),
  );
}

test.before(async () => {
  env = await createPipelineEnv('features');
  store = env.deps.lake(env.lakeUri);
  await writeRawLake(store, { patients: 600, days: 33, seed: 41 });
  await env.startWorkers();
  await ingest();
  const r = await featuresCli('--json');
  if (r.code !== 0) throw new Error(`carepipe features failed (${r.code}): ${r.stderr}`);
  first = JSON.parse(r.stdout) as typeof first;
});

test.after.always(async () => {
  await env?.close();
});

test.serial('carepipe features builds one shard per bucket and prints the version and where its shards are', async (t) => {
  t.regex(first.version, /^v-[0-9a-f]{16}$/);
  t.is(first.shardsUri, `${env.lakeUri}/features/${DATASET}/${first.version}/bucket=*.parquet`);
  t.is(first.shards, BUCKETS);
  t.is(first.builtShards, BUCKETS);
  t.is(first.skippedShards, 0);
  const shards = (await listKeys(store, lake.featureVersionPrefix(DATASET, first.version))).filter((k) => /bucket=\d{3}\.parquet$/.test(k));
  t.is(shards.length, BUCKETS);
  const manifest = await readManifest(first.version);
  t.is(manifest.rows, first.rows);
  t.is(manifest.labelledRows, first.rows - first.censored);
  t.true(first.rows > 300 && first.censored > 0 && first.censored < first.rows / 5, `${first.censored} of ${first.rows} censored`);
  t.is(manifest.labelRate, manifest.labelledPositives / manifest.labelledRows);
  const dayManifests = (await listKeys(store, 'manifests/ingest/')).filter((k) => /ingest_date=[\d-]+\.json$/.test(k));
  t.deepEqual(
    manifest.sources.ingestManifests.map((s) => s.key),
    dayManifests,
    'every day manifest of every table is a source',
  );
  for (const s of manifest.sources.ingestManifests) t.is(s.sha256, sha256Hex(await store.get(s.key)));
  t.is(manifest.dataEnd, '2025-02-02');
});

test.serial('without --json the command says what it found and where the shards are', async (t) => {
  const r = await featuresCli();
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^${DATASET}@${first.version}: ${BUCKETS} shards \\(0 built, 0 reused, ${BUCKETS} already complete\\) in 1 run\\(s\\)$`, 'm'));
  t.regex(
    r.stdout,
    new RegExp(`^${first.rows} index stays, ${first.positives} readmitted; ${first.censored} without 30 days of follow-up before ${first.dataEnd}$`, 'm'),
  );
  t.true(r.stdout.includes(`shards:   ${first.shardsUri}\n`));
  t.true(r.stdout.includes(`manifest: ${env.lakeUri}/${first.manifestKey}\n`));
});

test.serial('the progress query reports buckets done of the total while the run goes on, and a rerun finds every shard', async (t) => {
  const handle = await runFeatures({ dataset: DATASET, maxInFlight: 1 }, 'progress');
  const seen: FeaturesProgress[] = [];
  let done = false;
  const result = handle.result().finally(() => (done = true));
  while (!done) {
    const p = await handle.query(featuresProgressQuery).catch(() => undefined);
    if (p) seen.push(p);
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await result;
  t.is(r.version, first.version);
  t.is(r.skippedShards, BUCKETS);
  t.is(r.builtShards, 0);
  t.is(r.rows, first.rows);
  const last = await handle.query(featuresProgressQuery);
  t.like(last, { version: first.version, bucketsTotal: BUCKETS, bucketsDone: BUCKETS, present: BUCKETS, built: 0, rows: first.rows, runs: 1 });
  t.true(seen.every((p) => p.bucketsDone <= BUCKETS));
});

test.serial('a long plan continues as new between pages and builds the same dataset', async (t) => {
  const r = await (await runFeatures({ dataset: 'readmission-paged', pageSize: 3, historyLimit: 1 }, 'paged')).result();
  t.is(r.runs, 3, '8 buckets in pages of 3');
  t.is(r.builtShards, BUCKETS);
  t.is(r.rows, first.rows);
  t.is(r.positives, first.positives);
  t.is(r.censored, first.censored);
  t.is(r.version, first.version, 'the version is a function of the inputs, not of the dataset name');
});

test.serial('after a backfill only the buckets it touched are recomputed; the others are copied from the previous version', async (t) => {
  // Two patients of the raw zone get one more inpatient stay, in a new file on the last ingest date.
  const rawPatients = (await listKeys(store, 'raw/patients/ingest_date=2025-01-01/'))[0]!;
  const ids = stringValues(readParquet(await store.get(rawPatients)).getChild('patient_id'), 2).slice(0, 2) as string[];
  const pseudonymizer = new Pseudonymizer(env.keys.pseudonym);
  const touched = [...new Set(ids.map((id) => bucketOf(pseudonymizer.patient(id).key, BUCKETS)))].sort();
  const admit = Date.UTC(2025, 0, 29, 10);
  const backfill = new Table({
    encounter_id: utf8Vector(['BF-1', 'BF-2']),
    patient_id: utf8Vector(ids),
    encounter_class: utf8Vector(['inpatient', 'inpatient']),
    admit_time: timestampMsVector(Float64Array.of(admit, admit)),
    discharge_time: timestampMsVector(Float64Array.of(admit + 2 * 86_400_000, admit + 3 * 86_400_000)),
    primary_dx: utf8Vector(['J18.9', 'I50.9']),
    discharge_disposition: utf8Vector(['home', 'snf']),
    facility_id: utf8Vector(['FAC01', 'FAC02']),
    payer: utf8Vector(['medicare', 'medicaid']),
  });
  await store.put('raw/encounters/ingest_date=2025-02-02/backfill-1.parquet', writeParquet(backfill));
  await ingest();

  const r = await (await runFeatures({ dataset: DATASET }, 'backfill')).result();
  t.not(r.version, first.version);
  t.is(r.dataEnd, first.dataEnd);
  t.is(r.builtShards, touched.length, `buckets ${touched.join(', ')} recomputed`);
  t.is(r.reusedShards, BUCKETS - touched.length);
  t.is(r.rows, first.rows + 2, 'the two new stays are index stays');
  const before = await readManifest(first.version);
  const after = await readManifest(r.version);
  for (const shard of after.shards) {
    const old = before.shards.find((s) => s.bucket === shard.bucket)!;
    if (touched.includes(shard.bucket)) {
      t.not(shard.inputHash, old.inputHash);
      t.is(shard.reusedFrom, undefined);
    } else {
      t.is(shard.inputHash, old.inputHash);
      t.is(shard.reusedFrom, first.version);
      t.deepEqual(await store.get(shard.key), await store.get(old.key), `bucket ${shard.bucket} copied byte for byte`);
    }
  }
  const again = await (await runFeatures({ dataset: DATASET }, 'backfill-again')).result();
  t.like(again, { version: r.version, builtShards: 0, reusedShards: 0, skippedShards: BUCKETS });
});

test.serial('training fits the pipeline as a map-reduce over the shards, on the training patients only', async (t) => {
  const version = first.version;
  const candidates = await env.client.workflow.execute(trainWorkflow, {
    workflowId: `train/features-${Date.now()}`,
    taskQueue: taskQueue(env.queuePrefix, 'orchestration'),
    args: [
      {
        lake: env.lakeUri,
        model: 'features-fit',
        dataset: DATASET,
        featuresVersion: version,
        families: ['logreg'],
        hyperparameters: {},
        testFraction: 0.25,
        seed: 3,
        versionStamp: '20250101T000000Z',
        codeVersion: 'test',
      },
    ],
  });
  const registryPipeline = JSON.parse(
    new TextDecoder().decode(await store.get(lake.registryFile('features-fit', candidates[0]!.version, 'preprocessing_pipeline.json'))),
  ) as PreprocessingPipeline;
  const fitted = JSON.parse(
    new TextDecoder().decode(await store.get(`${lake.featureFitPrefix(DATASET, version, 'test-0.25-seed-3')}preprocessing_pipeline.json`)),
  ) as PreprocessingPipeline;
  t.deepEqual(registryPipeline, fitted, 'the trainer used the merged pipeline');
  const partials = (await listKeys(store, lake.featureFitPrefix(DATASET, version, 'test-0.25-seed-3'))).filter((k) => /bucket=\d{3}\.json$/.test(k));
  t.is(partials.length, BUCKETS, 'one partial per shard');

  const data = await loadFeatureSet(store, DATASET, version);
  const split = splitByPatient(data.patientKeys, 0.25, 3);
  t.is(fitted.fittedRows, split.train.length, 'exactly the labelled stays of the training patients');
  t.is(candidates[0]!.metrics.trainRows, split.train.length);
  const whole = fitPipeline(data.columns, split.train);
  t.is(fitted.width, whole.width);
  fitted.steps.forEach((s, i) => {
    const o = whole.steps[i]!;
    if (s.kind === 'categorical' || o.kind === 'categorical') return void t.deepEqual(s, o);
    t.is(s.median, o.median, s.name);
    t.true(Math.abs(s.mean - o.mean) <= 1e-9 * Math.max(1, Math.abs(o.mean)), s.name);
    t.true(Math.abs(s.std - o.std) <= 1e-9 * Math.max(1, o.std), s.name);
  });
  const onTest = fitPipeline(data.columns, split.test);
  t.notDeepEqual(
    onTest.steps.map((s) => (s.kind === 'numeric' ? s.mean : 0)),
    fitted.steps.map((s) => (s.kind === 'numeric' ? s.mean : 0)),
  );
});
