import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { NativeConnection } from '@temporalio/worker';
import { tfBackendLabel } from '../../activities/train/tf-backend.js';
import { loadConfig, requireKeys } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { QUEUE_ALIASES, QUEUE_ROLES, type QueueRole, taskQueue } from '../../schemas/names.js';
import { exportSlotUsage, exportStoreRequests } from '../../workers/metrics.js';
import { installRuntime, metricsUrl } from '../../workers/runtime.js';
import { checkTfBackend } from '../../workers/tf-backend-check.js';
import { createWorkers, runWorkers } from '../../workers/workers.js';
import { createDeps } from '../deps.js';
import { configOverrides, refuse } from '../options.js';
import { UnreachableError, action } from '../output.js';

export function parseQueues(list: string): QueueRole[] {
  if (list === 'all') return [...QUEUE_ROLES];
  const roles = list
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean)
    .map((q) => {
      const role = QUEUE_ALIASES[q];
      return role ?? refuse(`--queues: unknown queue "${q}"; known: ${Object.keys(QUEUE_ALIASES).join(', ')}, all`);
    });
  if (roles.length === 0) refuse('--queues must name at least one queue');
  return [...new Set(roles)];
}

interface WorkerOptions {
  queues?: QueueRole[];
  activityConcurrency?: string;
  curatorThreads?: string;
  metricsPort?: string;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(COMMANDS.worker)
    .option('--queues <list>', `comma-separated: ${Object.keys(QUEUE_ALIASES).join(', ')} (default: all)`, parseQueues)
    .option('--activity-concurrency <n>', 'activities in flight per queue (CAREPIPE_WORKER_ACTIVITY_CONCURRENCY)')
    .option('--curator-threads <n>', 'threads curating raw files, 0 for inline (CAREPIPE_WORKER_CURATOR_THREADS; default: the cores)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on http://CAREPIPE_METRICS_HOST:<n>/metrics, 0 for none (CAREPIPE_METRICS_PORT)')
    .action(
      action(async (opts: WorkerOptions) => {
        // The flags stand in for their variables: the same parser, the same limits, the flag named when refused.
        const config = loadConfig(
          process.env,
          configOverrides([
            ['--metrics-port', 'CAREPIPE_METRICS_PORT', opts.metricsPort],
            ['--activity-concurrency', 'CAREPIPE_WORKER_ACTIVITY_CONCURRENCY', opts.activityConcurrency],
            ['--curator-threads', 'CAREPIPE_WORKER_CURATOR_THREADS', opts.curatorThreads],
          ]),
        );
        const queues = opts.queues ?? [...QUEUE_ROLES];
        // Before keys and Temporal: a GPU worker without its GPU backend is a configuration error.
        const tf = await checkTfBackend(config.tfBackend, queues);
        const keys = requireKeys(config);
        const logger = createLogger(config.logLevel, { process: 'worker' });
        installRuntime(logger, { metrics: config.metrics });
        exportStoreRequests();
        let connection: NativeConnection;
        try {
          connection = await NativeConnection.connect({ address: config.temporal.address, ...(config.temporal.tls ? { tls: config.temporal.tls } : {}) });
        } catch (cause) {
          throw new UnreachableError(`cannot reach Temporal at ${config.temporal.address} (CAREPIPE_TEMPORAL_ADDRESS)`, { cause });
        }
        // Raw files are curated by ingest activities, which only the data queue runs.
        const curatorThreads = queues.includes('data') ? config.worker.curatorThreads : 0;
        const deps = createDeps(config, keys, logger, { curatorThreads });
        try {
          const workers = await createWorkers({ deps, connection, queues, queuePrefix: config.temporal.queuePrefix });
          logger.info('worker started', {
            queues: queues.map((q) => taskQueue(config.temporal.queuePrefix, q)).join(','),
            curatorThreads,
            pid: process.pid,
            metrics: metricsUrl(config.metrics) ?? 'off',
            ...(tf ? { tfBackend: tfBackendLabel(tf.backend) } : {}),
          });
          const stopSlots = config.metrics.port > 0 ? exportSlotUsage(workers) : () => undefined;
          await runWorkers(workers).finally(stopSlots);
          logger.info('worker stopped', { pid: process.pid });
        } finally {
          await deps.close();
          await connection.close();
        }
      }),
    );
}
