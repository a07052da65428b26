/**
 * retrainWorkflow end to end on the real test stack: a generated raw lake in versitygw, workers
 * on the file's own task queues, the Temporal dev server. Checks what the pipeline computed
 * against what the generator knows, that a rerun skips finished work, and that the server's
 * history holds none of the run's values in clear text.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import proto, { type temporal } from '@temporalio/proto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { readAlias } from '../../activities/registry/aliases.js';
import { readAuditStream, verifyAuditStream } from '../../activities/registry/audit.js';
import type { ModelMetadata } from '../../activities/registry/metadata.js';
import { ENCRYPTED_ENCODING } from '../../core/codec.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { lake } from '../../data-lake/layout.js';
import { followRetrain, startRetrain } from '../../cli/runs.js';
import type { RetrainInput, RetrainResult } from '../../schemas/workflows.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

let env: PipelineEnv;
let generation: GenerationSummary;
let first: { workflowId: string; result: RetrainResult };

const MODEL = 'readmission-wf-test';
const input = (): RetrainInput => ({
  actor: TEST_ACTOR,
  lake: env.lakeUri,
  model: MODEL,
  dataset: 'readmission',
  families: ['logreg'],
  bucketCount: 8,
  trigger: 'manual',
  ingest: {},
  codeVersion: 'test',
  // ~300 test stays make the 10-bin calibration error noisy; this file tests the plumbing, not the bound.
  gate: { maxEce: 0.2 },
});

async function run(): Promise<{ workflowId: string; result: RetrainResult }> {
  const handle = await startRetrain(env.client, env.config, input(), `retrain/${MODEL}/${Date.now()}-${Math.random().toString(36).slice(2, 6)}`);
  return { workflowId: handle.workflowId, result: await followRetrain(handle, () => {}, 200) };
}

test.before(async () => {
  env = await createPipelineEnv('retrain');
  // A clean lake: every index stay the generator simulated must come out of the pipeline. 31 ingest
  // dates: the lake then shows which stays have 30 days of follow-up exactly as the generator
  // knows them (activities/features/readmission.ts), and only those are trained on.
  generation = await writeRawLake(env.deps.lake(env.lakeUri), { patients: 1500, days: 31, seed: 11, messiness: 'none' });
  await env.startWorkers();
  first = await run();
});

test.after.always(async () => {
  await env?.close();
});

test('ingest accounts for every raw row and builds one feature row per index stay the generator simulated', (t) => {
  const { ingest, features } = first.result;
  const rawRows = Object.values(generation.rows).reduce((a, b) => a + b, 0);
  t.truthy(ingest);
  t.is(
    ingest!.files,
    Object.values(generation.filesByTable).reduce((a, b) => a + b, 0),
  );
  t.is(ingest!.rowsIn, rawRows);
  t.is(ingest!.rowsIn, ingest!.accepted + ingest!.corrected + ingest!.rejected);
  t.is(ingest!.rejected, 0, 'a clean lake has nothing to reject');
  t.is(ingest!.quarantinedFiles, 0);
  t.is(features.rows, generation.indexStays);
  t.is(features.positives, generation.readmissions);
  t.is(features.censored, generation.censoredIndexStays, 'stays discharged less than 30 days before the data end');
  t.is(features.labelledRows, generation.indexStays - generation.censoredIndexStays);
  t.true(features.shards > 0 && features.shards <= 8);
});

test('the promoted candidate is in the registry with its files, lineage, gate decision and an audited alias move', async (t) => {
  const { best, promotion, features } = first.result;
  t.true(promotion.promoted, promotion.reason);
  t.is(promotion.version, best.version);
  t.is(promotion.previousChampion, null);
  const store = env.deps.lake(env.lakeUri);
  for (const file of [
    'model.json',
    'preprocessing_pipeline.json',
    'feature_mapping.json',
    'model_metadata.yaml',
    'report.html',
    'predictions.parquet',
  ] as const) {
    t.truthy(await store.head(lake.registryFile(MODEL, best.version, file)), file);
  }
  const metadata = parse(new TextDecoder().decode(await store.get(lake.registryFile(MODEL, best.version, 'model_metadata.yaml')))) as ModelMetadata;
  t.is(metadata.trainingData.version, features.version);
  t.is(metadata.trainingData.rows, generation.indexStays - generation.censoredIndexStays, 'censored stays are not trained on');
  t.regex(metadata.trainingData.manifestSha256, /^[0-9a-f]{64}$/);
  t.is(metadata.gate?.decision, 'promoted');
  t.is(metadata.metrics.rocAuc, best.metrics.rocAuc);
  t.true(best.metrics.rocAuc > 0.6, `a model on generated risk should beat chance clearly, got ${best.metrics.rocAuc}`);
  t.true(best.metrics.rocAuc <= generation.bayesAuc + 0.05, 'no model beats the Bayes-optimal AUC by more than noise');
  t.deepEqual(Object.keys(metadata.subgroupMetrics).sort(), ['age_band', 'race', 'sex']);
  const importance = metadata.featureImportance ?? [];
  t.true(importance.length > 10, `importance for ${importance.length} features`);
  t.deepEqual(
    importance.map((i) => i.importance),
    [...importance.map((i) => i.importance)].sort((a, b) => b - a),
  );
  t.true(importance[0]!.importance > 0.005, `top feature ${importance[0]!.feature} moves AUC by ${importance[0]!.importance}`);
  const report = new TextDecoder().decode(await store.get(lake.registryFile(MODEL, best.version, 'report.html')));
  t.is(report.match(/<svg/g)?.length, 5, 'ROC, PR, calibration, decision curve and importance plots');
  // An independent implementation on the same predictions: scikit-learn, from the stored predictions.parquet.
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-preds-'));
  writeFileSync(join(dir, 'p.parquet'), await store.get(lake.registryFile(MODEL, best.version, 'predictions.parquet')));
  const sk = JSON.parse(
    execFileSync('python3', [
      '-c',
      [
        'import json, sys, pyarrow.parquet as pq',
        'from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss',
        't = pq.read_table(sys.argv[1]).to_pydict()',
        'print(json.dumps({"auc": roc_auc_score(t["label"], t["score"]), "ap": average_precision_score(t["label"], t["score"]), "brier": brier_score_loss(t["label"], t["score"]), "n": len(t["score"])}))',
      ].join('\n'),
      join(dir, 'p.parquet'),
    ]).toString(),
  ) as { auc: number; ap: number; brier: number; n: number };
  t.is(sk.n, metadata.metrics.testRows);
  t.true(Math.abs(sk.auc - metadata.metrics.rocAuc) < 1e-9, `sklearn AUC ${sk.auc} vs ${metadata.metrics.rocAuc}`);
  t.true(Math.abs(sk.ap - metadata.metrics.prAuc) < 1e-9, `sklearn AP ${sk.ap} vs ${metadata.metrics.prAuc}`);
  t.true(Math.abs(sk.brier - metadata.metrics.brier) < 1e-9, `sklearn Brier ${sk.brier} vs ${metadata.metrics.brier}`);
  const alias = await readAlias(store, MODEL);
  t.is(alias.doc?.version, best.version);
  const audit = await readAuditStream(store, `registry-${MODEL}`);
  t.like(await verifyAuditStream(store, `registry-${MODEL}`), { ok: true, records: audit.length });
  t.true(audit.some((r) => r.event.version === best.version && r.event.decision === 'promoted'));
});

test('a rerun skips every ingested file and built shard, and records a second gate decision', async (t) => {
  const second = await run();
  t.is(second.result.ingest!.skippedFiles, second.result.ingest!.files);
  t.is(second.result.features.version, first.result.features.version);
  t.is(second.result.features.skippedShards, second.result.features.shards);
  t.is(second.result.ingest!.rowsIn, first.result.ingest!.rowsIn);
  t.is(second.result.best.metrics.rocAuc, first.result.best.metrics.rocAuc, 'same data, same seed: same model');
  t.not(second.result.best.version, first.result.best.version);
  // The gate re-scored the champion on the challenger's own held-out stays: same model, same stays, same AUC.
  const store = env.deps.lake(env.lakeUri);
  const metadata = parse(
    new TextDecoder().decode(await store.get(lake.registryFile(MODEL, second.result.best.version, 'model_metadata.yaml'))),
  ) as ModelMetadata;
  t.is(metadata.gate?.comparison?.basis, 'rescored');
  t.is(metadata.gate?.comparison?.rows, second.result.best.metrics.testRows);
  t.is(metadata.gate?.comparison?.championRocAuc, first.result.best.metrics.rocAuc);
  t.is(metadata.gate?.comparison?.challengerRocAuc, second.result.best.metrics.rocAuc);
  t.deepEqual(
    metadata.gate?.subgroups.map((s) => s.attribute).filter((a, i, all) => all.indexOf(a) === i),
    ['sex', 'race', 'age_band'],
  );
  t.is(second.result.promotion.previousChampion, first.result.best.version);
  const audit = await readAuditStream(env.deps.lake(env.lakeUri), `registry-${MODEL}`);
  t.like(await verifyAuditStream(env.deps.lake(env.lakeUri), `registry-${MODEL}`), { ok: true, records: audit.length });
  t.true(audit.some((r) => r.event.version === second.result.best.version));
});

/** Every history of the run and its children, as the server stores them (no codec). */
async function rawHistories(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  for (const id of [workflowId, `${workflowId}/ingest`, `${workflowId}/features`, `${workflowId}/train`]) {
    const history = await env.rawClient.workflow.getHandle(id).fetchHistory();
    events.push(...(history.events ?? []));
  }
  return events;
}

test("the server-side event history holds none of the run's values in clear text: every payload is encrypted", async (t) => {
  const events = await rawHistories(first.workflowId);
  t.true(events.length > 20);
  // The history as the server stores it: protobuf bytes, in which a clear-text payload would show verbatim.
  const serialized = Buffer.from(proto.temporal.api.history.v1.History.encode({ events }).finish());
  const secrets = [
    env.lakeUri,
    env.lakeUri.replace('s3://', ''), // the run's input
    'raw/patients/',
    'raw/lab_results/',
    'ingest_date=', // activity inputs: file keys
    first.result.best.version,
    String(first.result.best.metrics.rocAuc), // results
    // (the feature dataset version is not here: it is the CarepipeDataset search attribute, by design)
    String(first.result.ingest!.rowsIn), // ('logreg' is in the activity id train/logreg, by design)
  ];
  for (const secret of secrets) t.false(serialized.includes(secret), `"${secret}" appears in clear text`);
  t.true(serialized.includes(`readmission@${first.result.features.version}`), 'the dataset search attribute is set (and the search is real)');
  const payloads: { metadata?: Record<string, Uint8Array> | null }[] = [];
  const collect = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (ArrayBuffer.isView(value)) return;
    const obj = value as Record<string, unknown>;
    if (obj.metadata && typeof obj.metadata === 'object' && 'data' in obj) payloads.push(obj);
    for (const v of Object.values(obj)) collect(v);
  };
  collect(events);
  const nonSearchAttributePayloads = payloads.filter((p) => {
    const enc = p.metadata?.encoding;
    return !(enc && Buffer.from(enc).toString() === 'json/plain' && p.metadata?.type); // typed search attributes
  });
  t.true(nonSearchAttributePayloads.length > 10);
  for (const p of nonSearchAttributePayloads) t.is(Buffer.from(p.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
});

test('invalid input fails the run at once, without retries, with a message that names the field', async (t) => {
  const handle = await startRetrain(env.client, env.config, { ...input(), ingest: { from: '2025-02-30' } }, `retrain/${MODEL}/invalid-${Date.now()}`);
  const err = await t.throwsAsync(handle.result(), { instanceOf: WorkflowFailedError });
  t.true(err?.cause instanceof ApplicationFailure);
  const failure = err?.cause as ApplicationFailure;
  t.is(failure.type, 'InvalidInputError');
  t.true(failure.nonRetryable);
  t.is(failure.message, 'from must be a date YYYY-MM-DD, got "2025-02-30"');
});
