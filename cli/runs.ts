/**
 * Starting and following workflow runs: readable ids, search attributes and memo set at start,
 * progress read by query while the run goes on.
 */
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Config } from '../core/config.js';
import { taskQueue } from '../schemas/names.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import type { RetrainInput, RetrainProgress, RetrainResult } from '../schemas/workflows.js';
import { retrainProgressQuery, retrainWorkflow } from '../workflows/index.js';
import { RunFailedError } from './output.js';

/** 20261128T090512Z */
export function compactStamp(date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export async function startRetrain(client: Client, config: Config, input: RetrainInput, workflowId?: string): Promise<WorkflowHandle<typeof retrainWorkflow>> {
  return client.workflow.start(retrainWorkflow, {
    workflowId: workflowId ?? `retrain/${input.model}/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_MODEL, value: input.model },
      { key: SA_DATASET, value: input.dataset },
      { key: SA_STAGE, value: 'starting' },
      { key: SA_TRIGGER, value: input.trigger },
    ]),
    memo: { model: input.model, dataset: input.dataset, families: input.families.join(','), trigger: input.trigger },
  });
}

/** Waits for the run, reporting each stage change through `onProgress`; a failed run becomes RunFailedError. */
export async function followRetrain(
  handle: WorkflowHandle<typeof retrainWorkflow>, onProgress: (p: RetrainProgress) => void, pollMs = 1_000,
): Promise<RetrainResult> {
  let finished = false;
  const result = handle.result().finally(() => { finished = true; });
  let last = '';
  while (!finished) {
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
    if (finished) break;
    const progress = await handle.query(retrainProgressQuery).catch(() => undefined);
    if (progress && JSON.stringify(progress) !== last) {
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
