/**
 * What a worker process computes with, said once at start, so an operator scaling out sees how
 * many cores each process uses and for what: the machine's cores as Node sees them
 * (os.availableParallelism(), which honours a container's CPU quota), the curation threads (data
 * queue), the gradient-histogram threads a boosting activity uses (CPU training queue), the
 * activity slots per queue and the queues served.
 */
import { availableParallelism } from 'node:os';
import { defaultThreads } from '../activities/train/trees/model.js';
import type { Logger } from '../core/log.js';
import type { QueueRole } from '../schemas/names.js';

export interface WorkerCores {
  availableParallelism: number;
  /** Threads curating raw files; 0 when the process does not serve the data queue or curates inline. */
  curatorThreads: number;
  /** Threads (the activity's own included) summing gradient histograms in a gbdt training; 0 without the CPU training queue. */
  histogramThreads: number;
  /** Activities in flight per activity queue. */
  activitySlots: number;
  /** Full task-queue names. */
  queues: string[];
}

export interface WorkerCoresInput {
  roles: readonly QueueRole[];
  queueNames: string[];
  curatorThreads: number;
  activitySlots: number;
  /** The machine's cores (default: os.availableParallelism()). */
  cores?: number;
  /** Histogram threads of one training (default: the tree learners' own choice). */
  histogramThreads?: number;
}

export function workerCores(input: WorkerCoresInput): WorkerCores {
  return {
    availableParallelism: input.cores ?? availableParallelism(),
    curatorThreads: input.curatorThreads,
    histogramThreads: input.roles.includes('trainCpu') ? (input.histogramThreads ?? defaultThreads()) : 0,
    activitySlots: input.activitySlots,
    queues: input.queueNames,
  };
}

/** One line for people: `2 cores (os.availableParallelism); curation on 2 threads; ...`. */
export function describeCores(c: WorkerCores): string {
  const threads = (n: number, what: string) => (n > 0 ? `${what} on ${n} thread${n === 1 ? '' : 's'}` : `no ${what}`);
  return [
    `${c.availableParallelism} core${c.availableParallelism === 1 ? '' : 's'} (os.availableParallelism)`,
    threads(c.curatorThreads, 'curation'),
    threads(c.histogramThreads, 'gradient histograms'),
    `${c.activitySlots} activities in flight per queue`,
    `serving ${c.queues.join(', ')}`,
  ].join('; ');
}

export function logWorkerCores(logger: Logger, c: WorkerCores): void {
  logger.info('worker cores', {
    summary: describeCores(c),
    availableParallelism: c.availableParallelism,
    curatorThreads: c.curatorThreads,
    histogramThreads: c.histogramThreads,
    activitySlots: c.activitySlots,
    queues: c.queues.join(','),
  });
}
