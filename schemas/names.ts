/**
 * The names the outside world sees: task queues, workflow types, search attributes.
 * Each lives here and only here, so the workers, the client and the Web UI agree.
 * Workflow-safe: plain constants, no imports.
 */

/**
 * Task queues by resource. A deployment's queues share a prefix (default `carepipe`), so two
 * deployments (or test runs) can share a Temporal namespace without taking each other's tasks.
 * Workflows find the prefix from their own (orchestration) queue name.
 */
export const QUEUE_SUFFIXES = {
  /** Workflow tasks: orchestration only. */
  orchestration: 'orchestration',
  /** I/O bound and CPU bound data work: ingest, evaluate, registry. */
  data: 'data',
  /**
   * The feature build and what reads it: planning, one shard per bucket, manifests, the quality
   * check, the fit's partial statistics. Its own queue so the data stage and the feature build
   * can run on different processes (or machines) and be sized apart.
   */
  features: 'features',
  /** CPU model training (trees, logistic regression). */
  trainCpu: 'train-cpu',
  /** GPU model training (neural nets). */
  trainGpu: 'train-gpu',
} as const;

export type QueueRole = keyof typeof QUEUE_SUFFIXES;
export const QUEUE_ROLES = Object.keys(QUEUE_SUFFIXES) as QueueRole[];
export const DEFAULT_QUEUE_PREFIX = 'carepipe';

export function taskQueue(prefix: string, role: QueueRole): string {
  return `${prefix}-${QUEUE_SUFFIXES[role]}`;
}

/** The prefix of an orchestration queue name (`<prefix>-orchestration`). */
export function queuePrefixOf(orchestrationQueue: string): string {
  const suffix = `-${QUEUE_SUFFIXES.orchestration}`;
  return orchestrationQueue.endsWith(suffix) ? orchestrationQueue.slice(0, -suffix.length) : DEFAULT_QUEUE_PREFIX;
}

/** Names accepted by `carepipe worker --queues`. */
export const QUEUE_ALIASES: Record<string, QueueRole> = {
  orchestration: 'orchestration',
  data: 'data',
  features: 'features',
  'train-cpu': 'trainCpu',
  'train-gpu': 'trainGpu',
};

export const WORKFLOW_TYPES = {
  retrain: 'retrainWorkflow',
  ingest: 'ingestWorkflow',
  features: 'featuresWorkflow',
  train: 'trainWorkflow',
  backfill: 'backfillWorkflow',
  score: 'scoreWorkflow',
} as const;

/** Custom search attributes, registered on the dev server by the stack scripts. None carries PHI. */
export const SEARCH_ATTRIBUTES = {
  model: 'CarepipeModel',
  dataset: 'CarepipeDataset',
  stage: 'CarepipeStage',
  trigger: 'CarepipeTrigger',
} as const;

export const SEARCH_ATTRIBUTE_KINDS: Record<(typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES], 'Keyword'> = {
  CarepipeModel: 'Keyword',
  CarepipeDataset: 'Keyword',
  CarepipeStage: 'Keyword',
  CarepipeTrigger: 'Keyword',
};
