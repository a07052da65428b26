/**
 * Against SeaweedFS, which implements SSE-S3 and says so in its PutObject answers: PHI zones are
 * written without the local-development exception, the objects are stored encrypted (HeadObject
 * says AES256), multipart uploads included; and a config that asks for no SSE is still refused.
 */
import test from 'ava';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { createS3Client } from '../../activities/io/s3-store.js';
import { parseLakeUri } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { type SeaweedFs, startSeaweedFs } from '../helpers/seaweedfs.js';

/** Ports 35110-35123: this test file's own (the audit helper's range is 35100-35199). */
const PORT_BASE = 35110;
let weed: SeaweedFs;

test.before(async () => {
  weed = await startSeaweedFs(PORT_BASE);
});
test.after.always(async () => {
  await weed?.stop();
});

test('PHI zones are written to a server that confirms SSE-S3, small and multipart, and stored encrypted', async (t) => {
  const location = parseLakeUri('s3://sse-lake/prod');
  await ensureBucket(location, weed.settings);
  const store = openStore(location, weed.settings);
  const big = new Uint8Array(7 * 1024 * 1024).map((_, i) => i % 251);
  await store.put('raw/patients/ingest_date=2026-01-01/p.parquet', 'phi bytes');
  await store.put('curated/patients/bucket=000/gen-1.parquet', big);
  t.is(new TextDecoder().decode(await store.get('raw/patients/ingest_date=2026-01-01/p.parquet')), 'phi bytes');
  t.deepEqual(await store.get('curated/patients/bucket=000/gen-1.parquet'), big);
  const client = createS3Client(weed.settings);
  for (const key of ['prod/raw/patients/ingest_date=2026-01-01/p.parquet', 'prod/curated/patients/bucket=000/gen-1.parquet']) {
    t.is((await client.send(new HeadObjectCommand({ Bucket: 'sse-lake', Key: key }))).ServerSideEncryption, 'AES256', key);
  }
  client.destroy();
  store.close();
});

test('a config asking for no SSE is refused for PHI zones even on a server that could encrypt', async (t) => {
  const location = parseLakeUri('s3://sse-none/prod');
  const settings = { ...weed.settings, sse: { mode: 'none' as const } };
  await ensureBucket(location, settings);
  const store = openStore(location, settings);
  const err = await t.throwsAsync(store.put('quarantine/patients/x.parquet', 'phi'), { instanceOf: ConfigError });
  t.regex(err.message, /refusing to write the PHI zone quarantine\/ .* \(none was asked for \(CAREPIPE_S3_SSE=none\)/);
  t.is(await store.head('quarantine/patients/x.parquet'), undefined);
  store.close();
});
