/**
 * Starting and following workflow runs: readable ids, search attributes and memo set at start,
 * progress read by query while the run goes on, failures turned into one clear error.
 */
import { ApplicationFailure, type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { type QueryDefinition, TypedSearchAttributes, type Workflow, type WorkflowResultType } from '@temporalio/common';
import type { Config } from '../core/config.js';
import { taskQueue } from '../schemas/names.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import type {
  BackfillInput,
  BackfillProgress,
  FeaturesInput,
  IngestInput,
  RetrainInput,
  RetrainProgress,
  RetrainResult,
  Trigger,
} from '../schemas/workflows.js';
import type { IngestProgress } from '../workflows/ingest.js';
import type { FeaturesProgress } from '../workflows/features.js';
import {
  backfillProgressQuery,
  backfillWorkflow,
  featuresProgressQuery,
  featuresWorkflow,
  ingestProgressQuery,
  ingestWorkflow,
  retrainProgressQuery,
  retrainWorkflow,
} from '../workflows/index.js';
import { RunFailedError } from './output.js';
import type { ProgressSnapshot } from './progress.js';

/** 20261128T090512Z */
export function compactStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function attributes(a: { model?: string; dataset?: string; stage: string; trigger: Trigger }): TypedSearchAttributes {
  return new TypedSearchAttributes([
    ...(a.model ? [{ key: SA_MODEL, value: a.model }] : []),
    ...(a.dataset ? [{ key: SA_DATASET, value: a.dataset }] : []),
    { key: SA_STAGE, value: a.stage },
    { key: SA_TRIGGER, value: a.trigger },
  ]);
}

export async function startRetrain(client: Client, config: Config, input: RetrainInput, workflowId?: string): Promise<WorkflowHandle<typeof retrainWorkflow>> {
  return client.workflow.start(retrainWorkflow, {
    workflowId: workflowId ?? `retrain/${input.model}/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: attributes({ model: input.model, dataset: input.dataset, stage: 'starting', trigger: input.trigger }),
    memo: { model: input.model, dataset: input.dataset, families: input.families.join(','), trigger: input.trigger },
  });
}

export async function startIngest(
  client: Client,
  config: Config,
  input: IngestInput,
  trigger: Trigger,
  workflowId?: string,
): Promise<WorkflowHandle<typeof ingestWorkflow>> {
  return client.workflow.start(ingestWorkflow, {
    workflowId: workflowId ?? `ingest/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: attributes({ stage: 'ingest', trigger }),
    memo: { from: input.from ?? 'all', to: input.to ?? 'all', trigger },
  });
}

export async function startFeatures(
  client: Client,
  config: Config,
  input: FeaturesInput,
  workflowId?: string,
): Promise<WorkflowHandle<typeof featuresWorkflow>> {
  return client.workflow.start(featuresWorkflow, {
    workflowId: workflowId ?? `features/${input.dataset}/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: attributes({ dataset: input.dataset, stage: 'features', trigger: 'manual' }),
    memo: { dataset: input.dataset, trigger: 'manual' },
  });
}

export async function startBackfill(
  client: Client,
  config: Config,
  input: BackfillInput,
  workflowId?: string,
): Promise<WorkflowHandle<typeof backfillWorkflow>> {
  return client.workflow.start(backfillWorkflow, {
    workflowId: workflowId ?? `backfill/${input.from}..${input.to}/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: attributes({ model: input.retrain?.model, dataset: input.dataset, stage: 'starting', trigger: 'backfill' }),
    memo: {
      from: input.from,
      to: input.to,
      dataset: input.dataset,
      trigger: 'backfill',
      ...(input.dates ? { dates: input.dates.join(',') } : {}),
      ...(input.resumeOf ? { resumeOf: input.resumeOf } : {}),
      ...(input.retrain ? { model: input.retrain.model } : {}),
      // What `carepipe backfill --resume` starts again from (memos are encrypted like every payload).
      input,
    },
  });
}

/** Waits for a run, reporting each change of its progress query; a failed run becomes RunFailedError. */
export async function follow<W extends Workflow, P>(
  handle: WorkflowHandle<W>,
  query: QueryDefinition<P>,
  onProgress: (p: P) => void,
  pollMs = 1_000,
): Promise<WorkflowResultType<W>> {
  return watch(handle, () => handle.query(query), onProgress, pollMs);
}

/** Like follow(), with any probe of the run's progress (e.g. one that also queries its running child). */
export async function watch<W extends Workflow, P>(
  handle: WorkflowHandle<W>,
  probe: () => Promise<P | undefined>,
  onProgress: (p: P) => void,
  pollMs = 1_000,
): Promise<WorkflowResultType<W>> {
  let finished = false;
  const result = handle.result().finally(() => {
    finished = true;
  });
  let last = '';
  while (!finished) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
    if (finished) break;
    const progress = await probe().catch(() => undefined);
    if (progress !== undefined && JSON.stringify(progress) !== last) {
      last = JSON.stringify(progress);
      onProgress(progress);
    }
  }
  try {
    return await result;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause instanceof Error ? err.cause.message : 'unknown cause';
      const app = err.cause instanceof ApplicationFailure ? err.cause : undefined;
      throw new RunFailedError(`workflow ${handle.workflowId} failed: ${cause}`, {
        cause: err,
        ...(app?.type ? { failureType: app.type } : {}),
        details: app?.details ?? [],
      });
    }
    throw err;
  }
}

export function followRetrain(
  handle: WorkflowHandle<typeof retrainWorkflow>,
  onProgress: (p: RetrainProgress) => void,
  pollMs = 1_000,
): Promise<RetrainResult> {
  return follow(handle, retrainProgressQuery, onProgress, pollMs);
}

// ---- progress snapshots for the progress bars (cli/progress.ts), read from the runs' queries ----

export function ingestSnapshot(p: IngestProgress, label = 'ingest'): ProgressSnapshot {
  return { label, unit: 'files', done: p.filesDone, ...(p.listingDone ? { total: p.filesListed } : {}), rows: p.rowsIn };
}

export function featuresSnapshot(p: FeaturesProgress, label = 'features'): ProgressSnapshot {
  return { label, unit: 'shards', done: p.bucketsDone, ...(p.bucketsTotal > 0 ? { total: p.bucketsTotal } : {}), rows: p.rows };
}

export async function probeIngest(client: Client, workflowId: string): Promise<ProgressSnapshot> {
  return ingestSnapshot(await client.workflow.getHandle(workflowId).query(ingestProgressQuery));
}

export async function probeFeatures(client: Client, workflowId: string): Promise<ProgressSnapshot> {
  return featuresSnapshot(await client.workflow.getHandle(workflowId).query(featuresProgressQuery));
}

/** The progress of a retrain run, with the shard counts of the child running its current stage. */
export async function probeRetrain(client: Client, workflowId: string): Promise<ProgressSnapshot> {
  const p = await client.workflow.getHandle(workflowId).query(retrainProgressQuery);
  const child = p.stageWorkflowId ? client.workflow.getHandle(p.stageWorkflowId) : undefined;
  if (child && p.stage === 'ingest') return ingestSnapshot(await child.query(ingestProgressQuery));
  if (child && p.stage === 'features') return featuresSnapshot(await child.query(featuresProgressQuery));
  // Train and promote report no counts of their own: the stages done of the run's stages.
  const order = ['ingest', 'features', 'train', 'promote'];
  const left = order.includes(p.stage) ? order.length - order.indexOf(p.stage) : 0;
  return { label: p.stage, unit: 'stages', done: p.stagesDone.length, total: p.stagesDone.length + left };
}

/** The progress of a backfill run: dates done of total, files and rows including the dates in flight. */
export async function probeBackfill(client: Client, workflowId: string): Promise<ProgressSnapshot> {
  const p: BackfillProgress = await client.workflow.getHandle(workflowId).query(backfillProgressQuery);
  if (p.stage === 'features' && p.running[0]) {
    return featuresSnapshot(await client.workflow.getHandle(p.running[0]).query(featuresProgressQuery));
  }
  if (p.stage === 'retrain' && p.running[0]) return { ...(await probeRetrain(client, p.running[0])) };
  let rows = p.rowsIn;
  for (const id of p.running) {
    const c = await client.workflow
      .getHandle(id)
      .query(ingestProgressQuery)
      .catch(() => undefined);
    rows += c?.rowsIn ?? 0;
  }
  return { label: p.stage === 'ingest' ? 'ingest' : p.stage, unit: 'dates', done: p.datesDone + p.datesFailed, total: p.datesTotal, rows };
}

export { ingestProgressQuery };
