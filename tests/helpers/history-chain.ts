/**
 * The histories of a workflow's chain of runs (continue-as-new), read from the server: a test of a
 * long fan-out checks each run's length and how each run ended.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export interface RunHistory {
  runId: string | undefined;
  events: temporal.api.history.v1.IHistoryEvent[];
  /** The run ended by continuing as new (every run of the chain but the last). */
  continuedAsNew: boolean;
}

/** Every run of the chain, first run first. */
export async function historyChain(client: Client, workflowId: string): Promise<RunHistory[]> {
  const chain: RunHistory[] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    chain.unshift({ runId, events, continuedAsNew: Boolean(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) });
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId) return chain;
  }
}
