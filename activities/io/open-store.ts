/**
 * Picks the store for a lake location: S3Store for `s3://`, FileStore for `file://`. Also
 * `ensureBucket`, which the stack scripts and tests use to create the lake's bucket.
 */
import { mkdir } from 'node:fs/promises';
import { CreateBucketCommand, HeadBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import type { LakeLocation, S3Settings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { FileStore } from './file-store.js';
import type { LockOptions } from './file-store-lock.js';
import type { ObjectStore } from './object-store.js';
import { createS3Client, S3Store, type ConditionalWriteSupport } from './s3-store.js';
import { mapS3Error, s3ErrorCode } from './store-errors.js';

export { joinKey } from './store-keys.js';

export interface OpenStoreOptions {
  /**
   * Whether the S3 server enforces If-None-Match / If-Match atomically. Defaults to the config's
   * CAREPIPE_S3_CONDITIONAL_WRITES: 'atomic' for AWS S3, 'per-request' for other endpoints
   * (versitygw 1.7.0, the local stack's server, checks them but not atomically with the write;
   * tests/activities/object-store.test.ts races it).
   */
  conditionalWrites?: ConditionalWriteSupport;
  /** Keys per S3 listing page; tests lower it to exercise paging. */
  listPageSize?: number;
  /** FileStore lock timing; see file-store-lock.ts. */
  lock?: LockOptions;
}

export function openStore(lake: LakeLocation, s3: S3Settings, options: OpenStoreOptions = {}): ObjectStore {
  if (lake.kind === 'file') return new FileStore({ root: lake.root, lock: options.lock });
  return new S3Store({
    bucket: lake.bucket,
    prefix: lake.prefix,
    uri: lake.uri,
    settings: s3,
    conditionalWrites: options.conditionalWrites ?? s3.conditionalWrites,
    listPageSize: options.listPageSize,
  });
}

/**
 * Makes sure the lake's bucket (or folder) exists; safe to call again and from several
 * processes at once. Asks first, so that credentials allowed to use but not create the bucket
 * work when it exists.
 */
export async function ensureBucket(lake: LakeLocation, s3: S3Settings): Promise<void> {
  if (lake.kind === 'file') {
    await mkdir(lake.root, { recursive: true, mode: 0o700 });
    return;
  }
  const client = createS3Client(s3);
  const ctx = { op: 'create bucket', endpoint: s3.endpoint ?? 'AWS S3', bucket: lake.bucket };
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: lake.bucket }));
      return;
    } catch (err) {
      if (s3ErrorCode(err).status !== 404) throw mapS3Error(err, ctx);
    }
    try {
      // Outside us-east-1 AWS wants the region restated; S3-compatible servers ignore it.
      const constraint = s3.region === 'us-east-1' ? undefined : { LocationConstraint: s3.region as BucketLocationConstraint };
      await client.send(new CreateBucketCommand({ Bucket: lake.bucket, CreateBucketConfiguration: constraint }));
    } catch (err) {
      const { code } = s3ErrorCode(err);
      if (code === 'BucketAlreadyOwnedByYou') return;
      if (code === 'BucketAlreadyExists') {
        throw new ConfigError(`Bucket "${lake.bucket}" at ${ctx.endpoint} belongs to another account: choose another bucket in CAREPIPE_LAKE.`, { cause: err });
      }
      throw mapS3Error(err, ctx);
    }
  } finally {
    client.destroy();
  }
}
