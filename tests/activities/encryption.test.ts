/**
 * Encryption at rest on S3 and write-once audit records, against versitygw (1.7.0): it accepts an
 * SSE header but does not confirm it, so PHI zones are refused unless the config says local
 * development; its Object Lock (on a bucket created with it) keeps audit records from deletion.
 */
import test from 'ava';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { appendAudit, bindAuditKeys, verifyAuditStream } from '../../activities/audit/log.js';
import { ensureBucket, openStore } from '../../activities/io/open-store.js';
import { createS3Client } from '../../activities/io/s3-store.js';
import { type LakeLocation, parseLakeUri, type S3Settings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import { testS3Settings, uniqueBucket } from '../helpers/services.js';
import { testKeyRing } from '../helpers/pipeline-env.js';

async function bucketStore(title: string, settings: S3Settings) {
  const location = parseLakeUri(`s3://${uniqueBucket(title)}/lake`) as Extract<LakeLocation, { kind: 's3' }>;
  await ensureBucket(location, settings);
  return { location, store: openStore(location, settings) };
}

test('a store that does not confirm SSE is refused for every PHI zone, names the object, and is left without it', async (t) => {
  const { location, store } = await bucketStore(t.title, { ...testS3Settings(), localDevelopment: false });
  for (const key of ['raw/patients/ingest_date=2026-01-01/p.parquet', 'quarantine/patients/x.parquet', 'curated/patients/bucket=000/gen-1.parquet']) {
    const err = await t.throwsAsync(store.put(key, 'phi'), { instanceOf: ConfigError });
    t.is(
      err.message,
      `s3://${location.bucket}/lake/${key}: refusing to write the PHI zone ${key.split('/')[0]}/ because the S3 server at ${testS3Settings().endpoint} did not confirm server-side encryption (it was asked for AES256, and its answer carried no ServerSideEncryption). Use a server that encrypts at rest, or set CAREPIPE_LOCAL_DEVELOPMENT=true for a local development stack.`,
    );
    t.is(await store.head(key), undefined);
  }
  // Zones without patient data are written; the probe object is gone.
  await store.put('manifests/compaction/state.json', '{}');
  const client = createS3Client(testS3Settings());
  const listed = await client.send(new ListObjectsV2Command({ Bucket: location.bucket }));
  client.destroy();
  t.deepEqual(
    (listed.Contents ?? []).map((o) => o.Key),
    ['lake/manifests/compaction/state.json'],
  );
  store.close();
});

test('with local development declared, the same server takes PHI zones', async (t) => {
  const { store } = await bucketStore(t.title, { ...testS3Settings(), localDevelopment: true });
  await store.put('raw/patients/ingest_date=2026-01-01/p.parquet', 'phi');
  t.is((await store.head('raw/patients/ingest_date=2026-01-01/p.parquet'))?.size, 3);
  store.close();
});

test('on a bucket with Object Lock, audit records are written in compliance mode and cannot be deleted', async (t) => {
  const settings = testS3Settings();
  const bucket = uniqueBucket(t.title);
  const client = createS3Client(settings);
  await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  client.destroy();
  const store = bindAuditKeys(openStore(parseLakeUri(`s3://${bucket}`), settings), { ring: testKeyRing('audit-1'), retainDays: 1 });
  await appendAudit(store, 'registry-m', { eventId: 'e0', actor: 'alice', event: { type: 'force' } });
  const err = await t.throwsAsync(store.delete(lake.audit('registry-m', 0)));
  t.regex(err.message, /AccessDenied|locked|retention|WORM/i);
  t.like(await verifyAuditStream(store, 'registry-m'), { ok: true, records: 1 });
  store.close();
});
