/**
 * `carepipe worker --queues`: the features queue is a queue of its own, served by default, so a
 * plain `carepipe worker` runs the feature build and two processes can split the data stage
 * from it.
 */
import test from 'ava';
import { parseQueues } from '../../cli/commands/worker.js';
import { QUEUE_ROLES, taskQueue } from '../../schemas/names.js';

test('a worker with no --queues serves every queue, the features queue included', (t) => {
  // Without --queues the worker serves QUEUE_ROLES, which `all` names.
  t.deepEqual([...QUEUE_ROLES], ['orchestration', 'data', 'features', 'trainCpu', 'trainGpu']);
  t.deepEqual(parseQueues('all'), [...QUEUE_ROLES]);
});

test('--queues data and --queues features name disjoint queues, so the data stage and the feature build can run on separate processes', (t) => {
  t.deepEqual(parseQueues('orchestration,data'), ['orchestration', 'data']);
  t.deepEqual(parseQueues('features'), ['features']);
  t.is(taskQueue('carepipe', 'features'), 'carepipe-features');
  t.not(taskQueue('carepipe', 'features'), taskQueue('carepipe', 'data'));
});

test('an unknown queue is refused with the list of known ones, features among them', (t) => {
  const err = t.throws(() => parseQueues('feature'));
  t.is(err?.message, '--queues: unknown queue "feature"; known: orchestration, data, features, train-cpu, train-gpu, all');
});
