import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { NativeConnection } from '@temporalio/worker';
import { tfBackendLabel } from '../../activities/train/tf-backend.js';
import { loadConfig, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { QUEUE_ALIASES, QUEUE_ROLES, type QueueRole, taskQueue } from '../../schemas/names.js';
import { exportStoreRequests } from '../../workers/metrics.js';
import { installRuntime, metricsUrl } from '../../workers/runtime.js';
import { checkTfBackend } from '../../workers/tf-backend-check.js';
import { createWorkers, runWorkers } from '../../workers/workers.js';
import { createDeps } from '../deps.js';
import { UnreachableError, action } from '../output.js';

export function parseQueues(list: string | undefined): QueueRole[] {
  if (list === undefined || list === 'all') return [...QUEUE_ROLES];
  const roles = list.split(',').map((q) => q.trim()).filter(Boolean).map((q) => {
    const role = QUEUE_ALIASES[q];
    if (!role) throw new ConfigError(`--queues: unknown queue "${q}"; known: ${Object.keys(QUEUE_ALIASES).join(', ')}, all`);
    return role;
  });
  if (roles.length === 0) throw new ConfigError('--queues must name at least one queue');
  return [...new Set(roles)];
}

export function registerWorker(program: Command): void {
  program.command('worker')
    .description(COMMANDS.worker)
    .option('--queues <list>', `comma-separated: ${Object.keys(QUEUE_ALIASES).join(', ')} (default: all)`)
    .option('--activity-concurrency <n>', 'activities in flight per queue (CAREPIPE_WORKER_ACTIVITY_CONCURRENCY)')
    .option('--curator-threads <n>', 'threads curating raw files, 0 for inline (CAREPIPE_WORKER_CURATOR_THREADS; default: the cores)')
    .option('--metrics-port <n>', 'serve Prometheus metrics on http://CAREPIPE_METRICS_HOST:<n>/metrics, 0 for none (CAREPIPE_METRICS_PORT)')
    .action(action(async (opts: { queues?: string; activityConcurrency?: string; curatorThreads?: string; metricsPort?: string }) => {
      const config = loadConfig();
      if (opts.metricsPort !== undefined) {
        if (!/^\d+$/.test(opts.metricsPort) || Number(opts.metricsPort) > 65535) throw new ConfigError(`--metrics-port must be a port number from 0 to 65535, got "${opts.metricsPort}"`);
        config.metrics.port = Number(opts.metricsPort);
      }
      if (opts.activityConcurrency !== undefined) {
        const n = Number(opts.activityConcurrency);
        if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ConfigError(`--activity-concurrency must be a whole number from 1 to 1000, got "${opts.activityConcurrency}"`);
        config.worker.activityConcurrency = n;
      }
      if (opts.curatorThreads !== undefined) {
        if (!/^\d+$/.test(opts.curatorThreads) || Number(opts.curatorThreads) > 256) {
          throw new ConfigError(`--curator-threads must be a whole number from 0 to 256, got "${opts.curatorThreads}"`);
        }
        config.worker.curatorThreads = Number(opts.curatorThreads);
      }
      const queues = parseQueues(opts.queues);
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
          queues: queues.map((q) => taskQueue(config.temporal.queuePrefix, q)).join(','), curatorThreads, pid: process.pid, metrics: metricsUrl(config.metrics) ?? 'off',
          ...(tf ? { tfBackend: tfBackendLabel(tf.backend) } : {}),
        });
        await runWorkers(workers);
        logger.info('worker stopped', { pid: process.pid });
      } finally {
        await deps.close();
        await connection.close();
      }
    }));
}
