/**
 * `carepipe lake inspect` on s3:// (the test stack's versitygw): an object and a prefix holding a
 * quarantined file, read through ranged GETs of each object's tail.
 */
import test from 'ava';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import type { InspectResult } from '../../activities/io/parquet-inspect.js';
import { parseConfig } from '../../core/config.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { patientColumns, patientsFile } from '../helpers/hostile-parquet.js';
import { testS3Settings, uniqueBucket } from '../helpers/services.js';

const bucket = uniqueBucket('lake-inspect-s3');
// versitygw accepts SSE but does not confirm it: the local stack's development exception.
const vars = { CAREPIPE_S3_ENDPOINT: testS3Settings().endpoint!, CAREPIPE_LAKE: `s3://${bucket}`, CAREPIPE_LOCAL_DEVELOPMENT: 'true' };
const good = patientsFile(patientColumns());

test.before(async () => {
  const config = parseConfig(vars);
  await ensureBucket(config.lake, config.s3);
  const store = openStore(config.lake, config.s3);
  await store.put('raw/patients/ingest_date=2024-01-01/good.parquet', good);
  await store.put('quarantine/patients/ingest_date=2024-01-01/cut.parquet', good.subarray(0, 100));
  await store.put(
    'quarantine/patients/ingest_date=2024-01-01/cut.parquet.reason.json',
    JSON.stringify({ reasonType: 'CorruptFileError', reason: 'parquet: cannot read cut.parquet: truncated' }),
  );
  store.close();
});

test('lake inspect reads an s3:// object and an s3:// prefix with a quarantined file and its reason', async (t) => {
  const one = await runCli(['lake', 'inspect', `s3://${bucket}/raw/patients/ingest_date=2024-01-01/good.parquet`, '--json'], cliEnv(vars));
  t.is(one.code, 0, one.stderr);
  const r = JSON.parse(one.stdout) as InspectResult;
  t.is(r.rows, 5);
  t.is(r.size, good.length);
  t.deepEqual(
    r.columns!.map((c) => c.path),
    ['patient_id', 'first_name', 'last_name', 'birth_date', 'sex'],
  );
  const prefix = await runCli(['lake', 'inspect', `s3://${bucket}/quarantine/`, '--json'], cliEnv(vars));
  t.is(prefix.code, 0, prefix.stderr);
  const q = JSON.parse(prefix.stdout) as InspectResult;
  t.is(q.key, 'patients/ingest_date=2024-01-01/cut.parquet');
  t.deepEqual(q.quarantine, { reasonType: 'CorruptFileError', reason: 'parquet: cannot read cut.parquet: truncated' });
  t.regex(q.error!, /not Parquet \(no PAR1 magic at its end\)/);
});
