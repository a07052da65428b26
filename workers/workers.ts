/**
 * Creates the Temporal workers of one process: one per task queue it serves. The orchestration
 * queue runs workflows; the data, features and training queues run activities (every queue
 * registers every activity; which queue a call goes to is the workflow's choice, so a process
 * serves exactly the work of the queues it names). Many processes on many
 * machines may serve the same queues.
 */
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { ActivityDeps } from '../activities/context.js';
import { dataConverter as makeDataConverter } from '../core/codec.js';
import { type QueueRole, taskQueue } from '../schemas/names.js';
import { logWorkerCores, workerCores } from './cores.js';
import { activityMetrics } from './metrics.js';
import { refuseUnencrypted } from './refuse-unencrypted.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));
/** Refuses workflows started or signalled with unencrypted payloads (workflows/refuse-unencrypted.ts). */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL('../workflows/refuse-unencrypted.js', import.meta.url));

export interface WorkerSetOptions {
  deps: ActivityDeps;
  connection: NativeConnection;
  queues: readonly QueueRole[];
  /** Pre-built bundle (tests build once per file); otherwise bundled at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Task queue prefix: `<prefix>-orchestration`, `<prefix>-data`, ... */
  queuePrefix: string;
}

export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    logger: { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}

export async function createWorkers(opts: WorkerSetOptions): Promise<Worker[]> {
  const { config, keys } = opts.deps;
  // Workers refuse what was not encrypted: a payload in clear reached the Temporal server's history.
  const dataConverter = makeDataConverter(keys.codec, { refuseUnencrypted: true });
  const activities = createActivities(opts.deps);
  const queueName = (role: QueueRole) => taskQueue(opts.queuePrefix, role);
  const common = {
    connection: opts.connection,
    namespace: config.temporal.namespace,
    dataConverter,
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds}s`,
  };
  const workers: Worker[] = [];
  for (const role of opts.queues) {
    if (role === 'orchestration') {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: queueName(role),
          ...(opts.workflowBundle
            ? { workflowBundle: opts.workflowBundle }
            : { workflowsPath: WORKFLOWS_PATH, interceptors: { workflowModules: [WORKFLOW_INTERCEPTORS_PATH] } }),
          maxConcurrentWorkflowTaskExecutions: config.worker.workflowConcurrency,
        }),
      );
    } else {
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: queueName(role),
          activities,
          interceptors: { activity: [refuseUnencrypted, activityMetrics] },
          maxConcurrentActivityTaskExecutions: config.worker.activityConcurrency,
        }),
      );
    }
  }
  // A curator pool has a size; an inline curator (or none) uses no thread of its own.
  const pool = opts.deps.curator as { size?: number } | undefined;
  logWorkerCores(
    opts.deps.logger,
    workerCores({
      roles: opts.queues,
      queueNames: opts.queues.map(queueName),
      curatorThreads: pool?.size ?? 0,
      activitySlots: config.worker.activityConcurrency,
    }),
  );
  return workers;
}

/** Runs the workers until every one has shut down (SIGINT/SIGTERM start a graceful shutdown). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
