/**
 * Turns S3 SDK and network failures into the domain errors of core/errors.ts, in one pure
 * function (as got does with its retry decision), so every store call fails the same way:
 * a missing object is NotFoundError, a lost conditional write PreconditionFailedError, a bad
 * bucket or credential ConfigError (never retried), throttling and outages TransientError.
 * Messages name the object, bucket and endpoint and the S3 error code, never the server's own
 * message text, which is not ours to vouch for. The original error is always the `cause`.
 */
import { ConfigError, InvalidInputError, NotFoundError, PreconditionFailedError, TransientError } from '../../core/errors.js';

export interface S3CallContext {
  /** What was attempted, e.g. `get` or `put`. */
  op: string;
  /** Where the call was sent: an endpoint URL or "AWS S3". */
  endpoint: string;
  bucket: string;
  /** The object's full URI (`s3://bucket/prefix/key`), when the call was about one object. */
  objectUri?: string;
  /** A put carried `ifMatch`: a missing object then means the precondition failed. */
  conditionalReplace?: boolean;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`, ...) or Node's socket code, and the HTTP status. */
export function s3ErrorCode(err: unknown): { code: string; status: number | undefined } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const code = e.Code ?? e.code ?? e.name ?? 'UnknownError';
  return { code, status: e.$metadata?.httpStatusCode };
}

const CREDENTIAL_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AllAccessDisabled',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
  // versitygw answers an unknown access key with this (HTTP 404) instead of InvalidAccessKeyId.
  'XAdminUserNotFound',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const THROTTLE_CODES = new Set(['SlowDown', 'ServiceUnavailable', 'Throttling', 'ThrottlingException', 'InternalError']);

/** The domain error for a failed S3 call; errors it does not recognise come back unchanged. */
export function mapS3Error(err: unknown, ctx: S3CallContext): unknown {
  const { code, status } = s3ErrorCode(err);
  const what = ctx.objectUri ?? `bucket "${ctx.bucket}"`;
  const options = { cause: err };

  if (code === 'NoSuchBucket') {
    return new ConfigError(
      `Bucket "${ctx.bucket}" does not exist at ${ctx.endpoint}: create it (npm run stack:up does, or ensureBucket) or fix CAREPIPE_LAKE.`,
      options,
    );
  }
  if (CREDENTIAL_CODES.has(code) || status === 403) {
    return new ConfigError(
      `${ctx.op} on ${what} at ${ctx.endpoint} was refused (${code}): check the S3 credentials (CAREPIPE_S3_ACCESS_KEY_ID) and the bucket's permissions.`,
      options,
    );
  }
  if (code === 'PreconditionFailed' || status === 412 || code === 'ConditionalRequestConflict') {
    return new PreconditionFailedError(`${what}: conditional ${ctx.op} lost (${code}): the object exists or changed since it was read.`, options);
  }
  if (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && ctx.objectUri !== undefined)) {
    if (ctx.conditionalReplace) {
      return new PreconditionFailedError(`${what}: conditional ${ctx.op} lost: the object no longer exists.`, options);
    }
    return new NotFoundError(`${what}: no such object.`, options);
  }
  if (code === 'InvalidRange' || status === 416) {
    return new InvalidInputError(`${what}: the requested byte range starts at or beyond the end of the object.`, options);
  }
  const transient = NETWORK_CODES.has(code) || THROTTLE_CODES.has(code) || (status !== undefined && (status >= 500 || status === 429));
  if (transient) {
    return new TransientError(`${ctx.op} on ${what} at ${ctx.endpoint} failed (${code}${status ? `, HTTP ${status}` : ''}): worth retrying.`, options);
  }
  return err;
}
