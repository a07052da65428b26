/**
 * Starting and following workflow runs: readable ids, search attributes and memo set at start,
 * progress read by query while the run goes on, failures turned into one clear error.
 */
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { type QueryDefinition, TypedSearchAttributes, type Workflow, type WorkflowResultType } from '@temporalio/common';
import type { Config } from '../core/config.js';
import { taskQueue } from '../schemas/names.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import type { IngestInput, RetrainInput, RetrainProgress, RetrainResult, Trigger } from '../schemas/workflows.js';
import { ingestProgressQuery, ingestWorkflow, retrainProgressQuery, retrainWorkflow } from '../workflows/index.js';
import { RunFailedError } from './output.js';

/** 20261128T090512Z */
export function compactStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
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

export async function startIngest(client: Client, config: Config, input: IngestInput, trigger: Trigger, workflowId?: string): Promise<WorkflowHandle<typeof ingestWorkflow>> {
  return client.workflow.start(ingestWorkflow, {
    workflowId: workflowId ?? `ingest/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: attributes({ stage: 'ingest', trigger }),
    memo: { from: input.from ?? 'all', to: input.to ?? 'all', trigger },
  });
}

/** Waits for a run, reporting each change of its progress query; a failed run becomes RunFailedError. */
export async function follow<W extends Workflow, P>(
  handle: WorkflowHandle<W>, query: QueryDefinition<P>, onProgress: (p: P) => void, pollMs = 1_000,
): Promise<WorkflowResultType<W>> {
  let finished = false;
  const result = handle.result().finally(() => { finished = true; });
  let last = '';
  while (!finished) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
    if (finished) break;
    const progress = await handle.query(query).catch(() => undefined);
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
      throw new RunFailedError(`workflow ${handle.workflowId} failed: ${cause}`, { cause: err });
    }
    throw err;
  }
}

export function followRetrain(handle: WorkflowHandle<typeof retrainWorkflow>, onProgress: (p: RetrainProgress) => void, pollMs = 1_000): Promise<RetrainResult> {
  return follow(handle, retrainProgressQuery, onProgress, pollMs);
}

export { ingestProgressQuery };
