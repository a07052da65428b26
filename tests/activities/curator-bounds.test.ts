/**
 * Curator threads are bounded: a request stuck in its thread (a decoder that never returns, made
 * by the `hang` test hook) is stopped at the deadline and counts as a death of its bytes (retried
 * once, then quarantined); a cancelled activity's request stops its thread. Either way a fresh
 * thread curates the next file. In-process worker threads, no services.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/activity';
import test from 'ava';
import type { CurateRequest } from '../../activities/ingest/curate.js';
import { createCuratorPool } from '../../activities/ingest/curator-pool.js';
import { TransientError } from '../../core/errors.js';
import { PATIENT_ROWS, patientColumns, patientsFile } from '../helpers/hostile-parquet.js';

const request = (source: string): CurateRequest => ({
  bytes: patientsFile(patientColumns()),
  source,
  table: 'patients',
  ingestDate: '2024-01-01',
  fileName: 'p.parquet',
  bucketCount: 4,
  pseudonymKey: { id: 'k1', secret: new Uint8Array(32).fill(7) },
});

test('A request running past the deadline has its thread stopped: retried once, quarantined the second time; the next file curates.', async (t) => {
  // 300 ms is the deadline under test, not a limit on the test: the hook never returns on its own.
  const pool = createCuratorPool({ threads: 1, deadlineMs: 300, testHooks: [{ source: 'stuck.parquet', action: 'hang' }] });
  try {
    const first = await t.throwsAsync(pool(request('raw/stuck.parquet')), { instanceOf: TransientError });
    t.regex(first.message, /still running after the 0\.3 s curation deadline/);
    const second = await pool(request('raw/stuck.parquet'));
    t.is(second.kind, 'quarantine');
    if (second.kind === 'quarantine') t.regex(second.reason, /killed a curator thread 2 times \(last: still running after the 0\.3 s curation deadline\)/);
    const next = await pool(request('raw/fine.parquet'));
    t.is(next.kind === 'curated' ? next.accepted : -1, PATIENT_ROWS);
    t.is(pool.stats().threadDeaths, 2);
  } finally {
    await pool.close();
  }
});

test('Cancelling the activity stops the thread curating its file, counts no death, and the next file curates.', async (t) => {
  const pool = createCuratorPool({ threads: 1, deadlineMs: 3_600_000, testHooks: [{ source: 'stuck.parquet', action: 'hang' }] });
  try {
    const env = new MockActivityEnvironment();
    const running = env.run(() => pool(request('raw/stuck.parquet')));
    // Cancel once the thread has the request (it never finishes, so this only waits for the dispatch).
    while (pool.stats().busy === 0) await new Promise((r) => setTimeout(r, 10));
    env.cancel();
    await t.throwsAsync(running, { instanceOf: CancelledFailure });
    const next = await pool(request('raw/fine.parquet'));
    t.is(next.kind === 'curated' ? next.accepted : -1, PATIENT_ROWS);
    t.is(pool.stats().threadDeaths, 0);
  } finally {
    await pool.close();
  }
});
