/** The worker's start-up account of its cores: which threads it runs for which queues. */
import test from 'ava';
import { createLogger } from '../../core/log.js';
import { describeCores, logWorkerCores, workerCores } from '../../workers/cores.js';

test("a worker serving every queue counts curation and histogram threads beside the machine's cores", (t) => {
  const c = workerCores({
    roles: ['orchestration', 'data', 'trainCpu', 'trainGpu'],
    queueNames: ['p-orchestration', 'p-data', 'p-train-cpu', 'p-train-gpu'],
    curatorThreads: 2,
    activitySlots: 8,
    cores: 2,
    histogramThreads: 2,
  });
  t.deepEqual(c, {
    availableParallelism: 2,
    curatorThreads: 2,
    histogramThreads: 2,
    activitySlots: 8,
    queues: ['p-orchestration', 'p-data', 'p-train-cpu', 'p-train-gpu'],
  });
  t.is(
    describeCores(c),
    '2 cores (os.availableParallelism); curation on 2 threads; gradient histograms on 2 threads; 8 activities in flight per queue; serving p-orchestration, p-data, p-train-cpu, p-train-gpu',
  );
});

test('a worker without the CPU training queue runs no histogram threads, and one without curation says so', (t) => {
  const c = workerCores({ roles: ['orchestration'], queueNames: ['p-orchestration'], curatorThreads: 0, activitySlots: 8, cores: 1, histogramThreads: 4 });
  t.is(c.histogramThreads, 0);
  t.is(describeCores(c), '1 core (os.availableParallelism); no curation; no gradient histograms; 8 activities in flight per queue; serving p-orchestration');
});

test('the account is one structured log line with the counts as fields', (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { process: 'worker' }, (line) => lines.push(line));
  logWorkerCores(logger, workerCores({ roles: ['data'], queueNames: ['p-data'], curatorThreads: 3, activitySlots: 4, cores: 3 }));
  t.is(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.regex(String(entry.ts), /^\d{4}-\d{2}-\d{2}T/);
  delete entry.ts;
  t.deepEqual(entry, {
    level: 'info',
    msg: 'worker cores',
    process: 'worker',
    availableParallelism: 3,
    curatorThreads: 3,
    histogramThreads: 0,
    activitySlots: 4,
    queues: 'p-data',
    summary: '3 cores (os.availableParallelism); curation on 3 threads; no gradient histograms; 4 activities in flight per queue; serving p-data',
  });
});
