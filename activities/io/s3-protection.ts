/**
 * Encryption at rest and write-once retention for S3Store. Every PutObject asks for server-side
 * encryption (SSE-S3 `AES256`, or SSE-KMS with the configured key); for the PHI zones
 * (data-lake/layout.ts `PHI_ZONES`) the server must also confirm it: before the first PHI write a
 * probe object is written and its answer's `ServerSideEncryption` read, and every PHI write's own
 * answer is checked too (an object the server stored without confirming is deleted). A server
 * that accepts the header and ignores it (versitygw 1.7.0) is refused, unless the config says
 * local development. Object Lock: the bucket's lock configuration is read once; where it is
 * enabled, writes that ask for retention (the audit trail) are locked in compliance mode.
 */
import {
  DeleteObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { isPhiKey } from '../../data-lake/layout.js';
import type { PutOptions } from './object-store.js';
import { mapS3Error, s3ErrorCode } from './store-errors.js';

export const SSE_PROBE_KEY = '_carepipe-sse-probe';

export class S3Protection {
  private sseConfirmed?: Promise<boolean>;
  private lockEnabled?: Promise<boolean>;

  constructor(
    private readonly client: S3Client,
    private readonly settings: S3Settings,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly endpoint: string,
  ) {}

  /** The SSE (and Object Lock) parameters of a PutObject for `key`. */
  async params(key: string, options: PutOptions): Promise<Partial<PutObjectCommandInput>> {
    if (this.mustConfirm(key) && !(await (this.sseConfirmed ??= this.probe()))) throw this.refusal(key);
    const sse = this.settings.sse;
    const out: Partial<PutObjectCommandInput> =
      sse.mode === 'none' ? {} : sse.mode === 'aws:kms' ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sse.kmsKeyId } : { ServerSideEncryption: 'AES256' };
    if (options.retainUntil && (await this.objectLock())) Object.assign(out, { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: options.retainUntil });
    return out;
  }

  /**
   * Checks a PHI write's answer; deletes the object and throws when the server did not confirm SSE.
   * An answer without it is asked again with HeadObject: SeaweedFS confirms a PutObject but not a
   * CompleteMultipartUpload, and its HeadObject does say the stored object is encrypted.
   */
  async confirm(key: string, answered: string | undefined): Promise<void> {
    if (!this.mustConfirm(key) || answered) return;
    const stored = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })).catch(() => undefined);
    if (stored?.ServerSideEncryption) return;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })).catch(() => undefined);
    throw this.refusal(key);
  }

  /** Whether the bucket has Object Lock enabled (read once). */
  objectLock(): Promise<boolean> {
    this.lockEnabled ??= this.client.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket })).then(
      (out) => out.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
      (err: unknown) => {
        const { status, code } = s3ErrorCode(err);
        // No configuration, or a server without the API: no lock, and the audit chain's MACs and head still show tampering.
        if (status === 404 || status === 501 || code === 'ObjectLockConfigurationNotFoundError' || code === 'NotImplemented') return false;
        this.lockEnabled = undefined;
        throw mapS3Error(err, { op: 'object lock probe', endpoint: this.endpoint, bucket: this.bucket });
      },
    );
    return this.lockEnabled;
  }

  private mustConfirm(key: string): boolean {
    return !this.settings.localDevelopment && isPhiKey(key);
  }

  private refusal(key: string): ConfigError {
    const asked = this.settings.sse.mode === 'none' ? 'none was asked for (CAREPIPE_S3_SSE=none)' : `it was asked for ${this.settings.sse.mode}`;
    return new ConfigError(
      `s3://${this.bucket}/${this.prefix}${key}: refusing to write the PHI zone ${key.split('/')[0]}/ because the S3 server at ${this.endpoint} did not confirm server-side encryption (${asked}, and its answer carried no ServerSideEncryption). Use a server that encrypts at rest, or set CAREPIPE_LOCAL_DEVELOPMENT=true for a local development stack.`,
    );
  }

  /** Whether the server confirms SSE on a throwaway object (asked once per store; a transient failure asks again). */
  private async probe(): Promise<boolean> {
    const Key = this.prefix + SSE_PROBE_KEY;
    const sse = this.settings.sse;
    let answered: string | undefined;
    try {
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: 'probe',
          ...(sse.mode === 'none' ? {} : { ServerSideEncryption: sse.mode, ...(sse.mode === 'aws:kms' ? { SSEKMSKeyId: sse.kmsKeyId } : {}) }),
        }),
      );
      answered = out.ServerSideEncryption;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      this.sseConfirmed = undefined; // a transient failure is probed again next time
      throw mapS3Error(err, { op: 'server-side encryption probe', endpoint: this.endpoint, bucket: this.bucket, objectUri: `s3://${this.bucket}/${Key}` });
    }
    return sse.mode !== 'none' && answered !== undefined;
  }
}
