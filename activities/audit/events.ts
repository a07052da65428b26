/**
 * Audit records for the events issue 15 lists beyond promotions: data reads (training, scoring),
 * decrypts, predictions and purges. One function each caller uses, so every record has the same
 * shape; a stream per writer kind and scope keeps concurrent writers (a retrain's model families,
 * training at once) off each other's sequence numbers.
 */
import { asyncLocalStorage } from '@temporalio/activity';
import type { ObjectStore } from '../io/object-store.js';
import { type AuditRecord, appendAudit } from './log.js';

export type AuditedAction = 'data-read' | 'decrypt' | 'predict' | 'purge' | 'gate-override';

export interface AuditedEvent {
  action: AuditedAction;
  /** Why: `training`, `scoring`, `retention`, ... */
  purpose: string;
  /** What it is about, to name the stream: a model and family, a zone, a workflow. Letters, digits, '.', '_', '-'. */
  scope: string;
  /** Unique per event and stable across retries of the same event (a model version, a plan id). */
  eventId: string;
  /** Who: a person when known; else the running workflow's id; else `local` (the CLI without Temporal). */
  actor?: string;
  /** What was touched: dataset versions, counts, zones. Never PHI (no patient ids, no file names of raw data). */
  details: Record<string, unknown>;
}

/** The acting workflow's id inside an activity, else undefined. */
export function currentWorkflowId(): string | undefined {
  return asyncLocalStorage.getStore()?.info.workflowExecution?.workflowId;
}

export const eventStream = (e: Pick<AuditedEvent, 'action' | 'purpose' | 'scope'>): string =>
  `${e.action}-${e.purpose}-${e.scope}`.replace(/[^A-Za-z0-9._-]/g, '_');

export function auditEvent(store: ObjectStore, e: AuditedEvent): Promise<AuditRecord> {
  return appendAudit(store, eventStream(e), {
    eventId: e.eventId,
    actor: e.actor ?? currentWorkflowId() ?? 'local',
    event: { type: e.action, purpose: e.purpose, ...e.details },
  });
}
