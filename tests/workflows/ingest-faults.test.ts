/**
 * Ingest under failure and under key rotation, on the real test stack. The same generated lake
 * sits in two buckets: one behind a store that throws TransientError on chosen reads and writes
 * (tests/helpers/faulty-store.ts, swapped into the workers' dependencies), one without. Temporal
 * retries the failed activities and both lakes end byte-identical. Then the pseudonym key
 * rotates: every file is curated again and nothing the old key made is left in curated/.
 */
import test from 'ava';
import type { temporal } from '@temporalio/proto';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { ensureBucket } from '../../activities/io/open-store.js';
import { startIngest } from '../../cli/runs.js';
import { parseLakeUri } from '../../core/config.js';
import { type GenerationSummary, type GeneratorInput, writeRawLake } from '../../data-lake/generator/index.js';
import { lake, parseRawKey, rawFileTag } from '../../data-lake/layout.js';
import type { IngestSummary } from '../../schemas/workflows.js';
import { FaultyStore } from '../helpers/faulty-store.js';
import { contentOf, fileManifests, listKeys, readTable, snapshot, strings, readJsonObject } from '../helpers/lake-scan.js';
import { createPipelineEnv, type PipelineEnv, testKeyRing } from '../helpers/pipeline-env.js';
import { uniqueBucket } from '../helpers/services.js';
import { TEST_ACTOR } from '../helpers/identity.js';

const BUCKETS = 8;
const LAKE: GeneratorInput = { patients: 200, days: 3, seed: 9, filesPerDay: 2, messiness: { corrupt: true } };
const ZONES = ['curated/', 'rejects/', 'manifests/', 'quarantine/'];

let env: PipelineEnv;
let faulty: FaultyStore;
let clean: { uri: string; store: ObjectStore };
let generation: GenerationSummary;
let keys: { encounters: string; labs: string; patients: string; firstDate: string };
let faultyRun: { workflowId: string; summary: IngestSummary };
let cleanRun: { workflowId: string; summary: IngestSummary };
let n = 0;

async function ingest(lakeUri: string): Promise<{ workflowId: string; summary: IngestSummary }> {
  const handle = await startIngest(
    env.client,
    env.config,
    { actor: TEST_ACTOR, lake: lakeUri, bucketCount: BUCKETS, filesPerTask: 1 },
    'manual',
    `ingest/faults-${Date.now()}-${++n}`,
  );
  return { workflowId: handle.workflowId, summary: await handle.result() };
}

const fileManifestKey = (rawKey: string) => {
  const p = parseRawKey(rawKey)!;
  return lake.ingestFileManifest(p.table, p.date, p.fileName);
};

test.before(async () => {
  const cleanUri = `s3://${uniqueBucket('ingest-faults-clean')}`;
  env = await createPipelineEnv('ingest-faults', [cleanUri]);
  const original = env.deps.lake.bind(env.deps);
  await ensureBucket(parseLakeUri(cleanUri), env.config.s3);
  clean = { uri: cleanUri, store: original(cleanUri) };
  generation = await writeRawLake(original(env.lakeUri), LAKE);
  await writeRawLake(clean.store, LAKE);

  const raw = await listKeys(original(env.lakeUri), 'raw/');
  const corrupt = new Set(generation.corruptFiles.map((f) => f.key));
  const pick = (table: string) => raw.find((k) => k.startsWith(`raw/${table}/`) && !corrupt.has(k))!;
  keys = { encounters: pick('encounters'), labs: pick('lab_results'), patients: pick('patients'), firstDate: generation.ingestDates.first };
  faulty = new FaultyStore(original(env.lakeUri), [
    { name: 'get an encounters file', op: 'get', match: (k) => k === keys.encounters, times: 2 },
    { name: 'get a lab file', op: 'get', match: (k) => k === keys.labs, times: 1 },
    // Mid-file: some fragments of the file may be written already when the put fails.
    { name: 'put a diagnoses fragment', op: 'put', match: (k) => k.startsWith('curated/diagnoses/'), times: 1 },
    // After every fragment: only the manifest is missing.
    { name: 'put a patients file manifest', op: 'put', match: (k) => k === fileManifestKey(keys.patients), times: 2 },
    { name: 'put a day manifest', op: 'put', match: (k) => k === lake.ingestManifest('encounters', keys.firstDate), times: 1 },
  ]);
  env.deps.lake = (uri) => (uri === env.lakeUri ? faulty : original(uri));

  await env.startWorkers();
  faultyRun = await ingest(env.lakeUri);
  cleanRun = await ingest(clean.uri);
});

test.after.always(async () => {
  await env?.close();
});

interface Attempt {
  type: string;
  attempt: number;
  lastFailureType: string | undefined;
}

/** The attempt each activity of a run completed on, from the history the server stores. */
async function attempts(workflowId: string): Promise<{ byId: Map<string, Attempt>; failed: number }> {
  const history: temporal.api.history.v1.IHistory = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { id: string; type: string }>();
  const byId = new Map<string, Attempt>();
  let failed = 0;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { id: s.activityId!, type: s.activityType!.name! });
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = scheduled.get(String(started.scheduledEventId))!;
      byId.set(a.id, { type: a.type, attempt: started.attempt!, lastFailureType: started.lastFailure?.applicationFailureInfo?.type ?? undefined });
    }
    if (e.activityTaskFailedEventAttributes) failed++;
  }
  return { byId, failed };
}

test.serial('transient store errors are retried: the run succeeds and its history shows each retried attempt', async (t) => {
  t.deepEqual(
    faulty.counts(),
    {
      'get an encounters file': 2,
      'get a lab file': 1,
      'put a diagnoses fragment': 1,
      'put a patients file manifest': 2,
      'put a day manifest': 1,
    },
    'every fault was injected',
  );
  const { byId, failed } = await attempts(faultyRun.workflowId);
  t.is(failed, 0, 'no activity failed for good');
  const diagnosesKey = faulty.injected.find((f) => f.rule === 'put a diagnoses fragment')!.key;
  const diagnosesFile = [...(await fileManifests(faulty)).values()].find((m) => m.fragments.some((f) => f.key === diagnosesKey))!.source;
  const expected = new Map<string, number>([
    [`ingest/${rawFileTag(keys.encounters)}/1`, 3],
    [`ingest/${rawFileTag(keys.labs)}/1`, 2],
    [`ingest/${rawFileTag(diagnosesFile)}/1`, 2],
    [`ingest/${rawFileTag(keys.patients)}/1`, 3],
  ]);
  const retried = [...byId].filter(([, a]) => a.attempt > 1);
  t.deepEqual(Object.fromEntries(retried.map(([id, a]) => [a.type === 'ingestFiles' ? id : a.type, a.attempt])), {
    ...Object.fromEntries(expected),
    writeIngestManifests: 2,
  });
  for (const [id, a] of retried) t.is(a.lastFailureType, 'TransientError', id);
  t.is(
    byId.size,
    faultyRun.summary.files + 3 + 2 + BUCKETS,
    "one activity per file, plus the listing, the day manifests, the quality check, and the compaction's plan, buckets and finish",
  );
});

test.serial('a run with transient faults ends exactly as a fault-free run: same summary, same objects, same bytes', async (t) => {
  const comparable = (s: IngestSummary) => ({ ...s, quarantined: [...s.quarantined].sort() });
  t.deepEqual(comparable(faultyRun.summary), comparable(cleanRun.summary));
  t.is(faultyRun.summary.quarantinedFiles, 2);
  t.true(faultyRun.summary.rowsIn > 10_000);
  t.deepEqual(contentOf(await snapshot(faulty, ['raw/'])), contentOf(await snapshot(clean.store, ['raw/'])), 'the same raw lake in both');
  const after = contentOf(await snapshot(faulty, ZONES));
  t.true(Object.keys(after).length > 50);
  t.deepEqual(after, contentOf(await snapshot(clean.store, ZONES)));
});

async function patientKeysUnder(store: ObjectStore, prefixes: string[]): Promise<{ keys: Set<string>; rows: number }> {
  const keys = new Set<string>();
  let rows = 0;
  for (const prefix of prefixes) {
    for (const key of (await listKeys(store, prefix)).filter((k) => k.endsWith('.parquet'))) {
      const table = await readTable(store, key);
      for (const pk of strings(table, 'patient_key')) if (pk !== null) keys.add(pk);
      if (prefix === 'curated/') rows += table.numRows;
    }
  }
  return { keys, rows };
}

test.serial('rotating the pseudonym key curates every file again, deletes what the old key made and leaves no old pseudonym', async (t) => {
  const before = await snapshot(clean.store, ['curated/', 'rejects/']);
  const old = await patientKeysUnder(clean.store, ['curated/', 'rejects/']);
  t.is(old.rows, cleanRun.summary.accepted + cleanRun.summary.corrected);
  const previousKeys = env.deps.keys;
  env.deps.keys = { ...previousKeys, pseudonym: testKeyRing('pseudo-2') };
  let rotated: IngestSummary;
  try {
    rotated = (await ingest(clean.uri)).summary;
  } finally {
    env.deps.keys = previousKeys;
  }
  t.is(rotated.skippedFiles, 0, 'no file skipped: the key is part of every input hash');
  const totals = (s: IngestSummary) => ({
    files: s.files,
    quarantinedFiles: s.quarantinedFiles,
    rowsIn: s.rowsIn,
    accepted: s.accepted,
    corrected: s.corrected,
    rejected: s.rejected,
  });
  t.deepEqual(totals(rotated), totals(cleanRun.summary));

  const after = await snapshot(clean.store, ['curated/', 'rejects/']);
  // Records keep their keys (they are replaced in place) and now name generations of the new key only.
  t.deepEqual(
    [...before.keys()].filter((k) => after.has(k) && !k.endsWith('/_current.json')),
    [],
    'every generation and rejects file of the old key is gone',
  );
  for (const key of [...after.keys()].filter((k) => k.endsWith('/_current.json'))) {
    t.like(await readJsonObject<{ pseudonymKeyId: string; superseded: unknown[] }>(clean.store, key), { pseudonymKeyId: 'pseudo-2', superseded: [] }, key);
  }
  const now = await patientKeysUnder(clean.store, ['curated/', 'rejects/']);
  t.is(now.rows, rotated.accepted + rotated.corrected, 'no duplicates: curated rows = accepted + corrected');
  t.is(now.keys.size, old.keys.size);
  t.deepEqual(
    [...now.keys].filter((k) => old.keys.has(k)),
    [],
    'no old pseudonym in a curated or rejects cell',
  );
  let inBytes = 0;
  for (const key of after.keys()) {
    const bytes = Buffer.from(await clean.store.get(key));
    for (const pk of old.keys) if (bytes.includes(pk)) inBytes++;
  }
  t.is(inBytes, 0, 'no old pseudonym in the bytes of any curated or rejects object');
  t.true([...(await fileManifests(clean.store)).values()].every((m) => m.pseudonymKeyId === 'pseudo-2'));
});
