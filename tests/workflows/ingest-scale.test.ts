/**
 * ingestWorkflow over a lake of several hundred small files, listing 25 keys a page and
 * continuing as new after every page (a history limit far below the default), so the cursor and
 * the running totals cross many runs: nothing may be lost or counted twice on the way.
 */
import test from 'ava';
import type { temporal } from '@temporalio/proto';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { startIngest } from '../../cli/runs.js';
import { type GenerationSummary, writeRawLake } from '../../data-lake/generator/index.js';
import { lake, parseRawKey } from '../../data-lake/layout.js';
import type { IngestSummary } from '../../schemas/workflows.js';
import { dayManifests, fileManifests, listKeys, sum } from '../helpers/lake-scan.js';
import { createPipelineEnv, type PipelineEnv } from '../helpers/pipeline-env.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const PAGE_SIZE = 25;
let env: PipelineEnv;
let store: ObjectStore;
let generation: GenerationSummary;
let summary: IngestSummary;
let workflowId: string;

test.before(async () => {
  env = await createPipelineEnv('ingest-scale');
  store = env.deps.lake(env.lakeUri);
  // Few patients spread over many files a day: 342 files of about 20 rows.
  generation = await writeRawLake(store, { patients: 150, days: 20, filesPerDay: 20, historyDays: 30, seed: 3 });
  await env.startWorkers();
  workflowId = `ingest/scale-${Date.now()}`;
  const handle = await startIngest(
    env.client,
    env.config,
    { actor: TEST_ACTOR, lake: env.lakeUri, bucketCount: 4, pageSize: PAGE_SIZE, historyLimit: 60, maxInFlight: 8, filesPerTask: 1 },
    'manual',
    workflowId,
  );
  summary = await handle.result();
});

test.after.always(async () => {
  await env?.close();
});

test('the run continues as new after every page of keys, and the chain of runs is what the summary counts', async (t) => {
  const files = sum(Object.values(generation.filesByTable));
  t.true(files >= 300, `${files} raw files`);
  t.is(summary.runs, Math.ceil(files / PAGE_SIZE));
  // Walk the chain on the server, from the last run back: each run but the first was started by
  // its predecessor continuing as new, and each but the last ended that way.
  let runId: string | undefined;
  let chain = 0;
  for (;;) {
    chain++;
    const history: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    if (chain === 1) t.truthy(events.at(-1)?.workflowExecutionCompletedEventAttributes, 'the last run completes');
    else t.truthy(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'an earlier run continues as new');
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    if (!runId) break;
  }
  t.is(chain, summary.runs);
  t.log(`${files} files in ${summary.runs} runs`);
});

test('the totals carried across runs count every file and every row once', async (t) => {
  t.is(summary.files, sum(Object.values(generation.filesByTable)));
  t.is(summary.skippedFiles, 0);
  t.is(summary.quarantinedFiles, 0);
  t.is(summary.rowsIn, sum(Object.values(generation.rows)));
  t.is(summary.rowsIn, summary.accepted + summary.corrected + summary.rejected);
  const days = [...(await dayManifests(store)).values()];
  t.is(sum(days.map((d) => d.files.length)), summary.files);
  t.is(sum(days.map((d) => d.rowsIn)), summary.rowsIn);
  t.is(sum(days.map((d) => d.accepted)), summary.accepted);
  t.is(sum(days.map((d) => d.corrected)), summary.corrected);
  t.is(sum(days.map((d) => d.rejected)), summary.rejected);
  t.is(summary.manifests.length, days.length);
});

test('every raw file has exactly one file manifest, and every manifest names its raw file', async (t) => {
  const raw = (await listKeys(store, 'raw/')).sort();
  const manifests = await fileManifests(store);
  const expected = raw.map((key) => {
    const p = parseRawKey(key)!;
    return lake.ingestFileManifest(p.table, p.date, p.fileName);
  });
  t.deepEqual([...manifests.keys()].sort(), expected.sort());
  t.deepEqual([...manifests.values()].map((m) => m.source).sort(), raw);
  t.true([...manifests.values()].every((m) => m.status === 'ingested' && m.rowsIn === m.accepted + m.corrected + m.rejected));
});
