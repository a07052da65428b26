/**
 * ObjectStore over S3 (AWS or an S3-compatible server such as versitygw). Keys are relative to
 * the lake root `s3://bucket/prefix`. Etags are returned without S3's surrounding quotes; they are
 * opaque version tags (a multipart upload's is no MD5), and nothing in carepipe reads a content
 * hash into one.
 *
 * Large bodies and streams go through @aws-sdk/lib-storage's Upload rather than a hand-written
 * CreateMultipartUpload loop: it already bounds memory (queueSize x partSize), uploads parts
 * concurrently, falls back to one PutObject for a stream shorter than a part, aborts the upload
 * when anything fails (no orphaned parts), and forwards If-None-Match / If-Match to
 * CompleteMultipartUpload, which is where S3 evaluates them for multipart writes.
 *
 * Conditional writes are only as good as the server. AWS S3 enforces them atomically; versitygw
 * 1.7.0 evaluates them before writing but not atomically with the write (racing create-only
 * writes can all succeed; fixed upstream in versitygw PR #2288). The caller declares which kind
 * of server it has (`conditionalWrites`): 'atomic' (AWS S3), 'per-request' (conditions sent and
 * checked one request at a time, not under races: the caller must serialise writers itself, as the
 * registry does with a Temporal workflow-id lock), or 'unsupported', where a conditional put throws
 * ConfigError before sending anything, instead of writing with a guarantee it lacks.
 *
 * Bounded requests (issue 16): every request has a connection timeout, a timeout to the response's
 * headers and a socket idle timeout (a stalled body), so a blackholed endpoint fails an attempt
 * with TransientError instead of hanging it until Temporal's timeout; and every request (a
 * multipart upload too) carries the running activity's cancellation signal, so a cancelled or
 * timed-out attempt stops its in-flight requests. Each HTTP attempt (the SDK's own retries
 * included) heartbeats the activity: see store-requests.ts.
 */
import { setMaxListeners } from 'node:events';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { asyncLocalStorage } from '@temporalio/activity';
import type { S3Settings } from '../../core/config.js';
import { ConfigError, InvalidInputError, NotFoundError } from '../../core/errors.js';
import type { ListOptions, ListPage, ObjectInfo, ObjectStore, PutOptions, StoreCapabilities } from './object-store.js';
import { mapS3Error, type S3CallContext } from './store-errors.js';
import { checkRange } from './store-keys.js';
import { countStoreRequest } from './store-requests.js';
import { S3Protection } from './s3-protection.js';

export type ConditionalWriteSupport = 'atomic' | 'per-request' | 'unsupported';

export interface S3StoreOptions {
  bucket: string;
  /** '' or a prefix ending in '/', as in LakeLocation. */
  prefix: string;
  /** The lake URI, for messages and `uri`. */
  uri: string;
  settings: S3Settings;
  /** Whether the server enforces If-None-Match / If-Match atomically (see the file comment). */
  conditionalWrites: ConditionalWriteSupport;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, by default); tests lower it to force paging. */
  listPageSize?: number;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Caps the part size (and so memory: 4 parts in flight) when the threshold is set very high. */
const MAX_PART_BYTES = 64 * 1024 * 1024;

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^(W\/)?"|"$/g, '');

export class S3Store implements ObjectStore {
  readonly uri: string;
  readonly capabilities: StoreCapabilities;
  private readonly client: S3Client;
  /** Server-side encryption (refused for PHI zones unless confirmed) and Object Lock. */
  private readonly protection: S3Protection;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string;
  private readonly threshold: number;
  private readonly pageSize: number;

  /** Conditions are sent and checked by the server (atomically only when the capabilities say so). */
  private readonly conditionsChecked: boolean;

  constructor(options: S3StoreOptions) {
    const { settings } = options;
    this.uri = options.uri;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.endpoint = settings.endpoint ?? 'AWS S3';
    this.threshold = settings.multipartThresholdBytes;
    this.pageSize = options.listPageSize ?? 1000;
    const atomic = options.conditionalWrites === 'atomic';
    this.capabilities = { conditionalCreate: atomic, conditionalReplace: atomic };
    this.conditionsChecked = options.conditionalWrites !== 'unsupported';
    this.client = createS3Client(settings);
    this.protection = new S3Protection(this.client, settings, this.bucket, this.prefix, this.endpoint);
  }

  async get(key: string): Promise<Uint8Array> {
    const body = await this.getBody('get', key, undefined);
    return this.call('get', key, () => body.transformToByteArray());
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array> {
    checkRange(this.objectUri(key), start, end);
    // `bytes=a-(a-1)` is not a range S3 understands (it would send the whole object).
    if (start === end) {
      if (!(await this.head(key))) throw new NotFoundError(`${this.objectUri(key)}: no such object.`);
      return new Uint8Array(0);
    }
    const body = await this.getBody('getRange', key, `bytes=${start}-${end - 1}`);
    return this.call('getRange', key, () => body.transformToByteArray());
  }

  /** The response body as a Node stream; errors after the first byte arrive raw, on the stream. */
  async getStream(key: string): Promise<Readable> {
    const body = await this.getBody('getStream', key, undefined);
    return body as unknown as Readable;
  }

  /** Undefined for a missing object, and also for a missing bucket: a HEAD answer has no error code. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    countStoreRequest('s3', 'head');
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), sendOptions());
      return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), lastModified: out.LastModified ?? new Date(0) };
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 && (err as Error).name !== 'NoSuchBucket') return undefined;
      throw mapS3Error(err, this.context('head', key));
    }
  }

  /** `lastModified` of the result is this machine's clock when the write finished. */
  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<ObjectInfo> {
    this.checkConditionSupported(key, options);
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.fullKey(key),
      ContentType: options.contentType,
      IfNoneMatch: options.ifNoneMatch,
      IfMatch: options.ifMatch === undefined ? undefined : `"${unquote(options.ifMatch)}"`,
      ...(await this.protection.params(key, options)),
    };
    const ctx = { ...this.context('put', key), conditionalReplace: options.ifMatch !== undefined };
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body instanceof Uint8Array ? body : undefined;
    const counter = bytes ? undefined : new ByteCounter();
    countStoreRequest('s3', 'put');
    try {
      if (bytes && bytes.byteLength <= this.threshold) {
        const out = await this.client.send(new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.byteLength }), sendOptions());
        await this.protection.confirm(key, out.ServerSideEncryption);
        return { key, size: bytes.byteLength, etag: unquote(out.ETag), lastModified: new Date() };
      }
      // pipeline() hands a source error to the counter (so the upload fails and aborts) and
      // destroys the source when the counter is destroyed; errors surface from done().
      if (counter) pipeline(body as Readable, counter, () => undefined);
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: bytes ?? counter },
        partSize: Math.min(MAX_PART_BYTES, Math.max(MIN_PART_BYTES, this.threshold)),
        queueSize: 4,
        leavePartsOnError: false,
      });
      const signal = activitySignal();
      const abort = () => void upload.abort().catch(() => undefined);
      signal?.addEventListener('abort', abort, { once: true });
      if (signal?.aborted) abort();
      const out = await upload.done().finally(() => signal?.removeEventListener('abort', abort));
      await this.protection.confirm(key, (out as { ServerSideEncryption?: string }).ServerSideEncryption);
      return { key, size: bytes?.byteLength ?? counter?.bytes ?? 0, etag: unquote(out.ETag), lastModified: new Date() };
    } catch (err) {
      counter?.destroy(); // releases the caller's stream if the upload stopped before its end
      throw mapS3Error(err, ctx);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    // StartAfter only on the first request: the continuation token carries the position after it.
    let startAfter = options.startAfter === undefined ? undefined : this.prefix + options.startAfter;
    do {
      const page = await this.listPage(prefix, undefined, token, startAfter);
      startAfter = undefined;
      for (const o of page.Contents ?? []) yield this.info(o);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async listLevel(prefix: string): Promise<ListPage> {
    const result: ListPage = { objects: [], prefixes: [] };
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, '/', token);
      for (const o of page.Contents ?? []) result.objects.push(this.info(o));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) result.prefixes.push(p.Prefix.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return result;
  }

  async delete(key: string): Promise<void> {
    countStoreRequest('s3', 'delete');
    await this.call('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }), sendOptions()));
  }

  close(): void {
    this.client.destroy();
  }

  private checkConditionSupported(key: string, options: PutOptions): void {
    if (this.conditionsChecked && !this.capabilities.conditionalCreate) return; // per-request: sent, checked, not race-proof
    const { conditionalCreate, conditionalReplace } = this.capabilities;
    const wanted =
      options.ifNoneMatch !== undefined && !conditionalCreate
        ? 'create-only (If-None-Match)'
        : options.ifMatch !== undefined && !conditionalReplace
          ? 'compare-and-swap (If-Match)'
          : undefined;
    if (wanted) {
      throw new ConfigError(
        `${this.objectUri(key)}: a ${wanted} write was refused because the S3 server at ${this.endpoint} is not known to enforce conditional writes atomically, so it could silently overwrite another writer. Use AWS S3, a server that enforces them (open the store with conditionalWrites: 'atomic'), or a file:// lake.`,
      );
    }
  }

  private async getBody(op: string, key: string, range: string | undefined) {
    countStoreRequest('s3', range === undefined ? 'get' : 'getRange');
    const out = await this.call(op, key, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key), Range: range }), sendOptions()),
    );
    if (!out.Body) throw new InvalidInputError(`${this.objectUri(key)}: the S3 server returned no body.`);
    return out.Body;
  }

  private async listPage(prefix: string, delimiter: '/' | undefined, token: string | undefined, startAfter?: string): Promise<ListObjectsV2CommandOutput> {
    countStoreRequest('s3', 'list');
    return this.call('list', undefined, () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          Delimiter: delimiter,
          MaxKeys: this.pageSize,
          ContinuationToken: token,
          StartAfter: startAfter,
        }),
        sendOptions(),
      ),
    );
  }

  private info(o: { Key?: string; Size?: number; ETag?: string; LastModified?: Date }): ObjectInfo {
    return { key: (o.Key ?? '').slice(this.prefix.length), size: o.Size ?? 0, etag: unquote(o.ETag), lastModified: o.LastModified ?? new Date(0) };
  }

  private async call<T>(op: string, key: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw mapS3Error(err, this.context(op, key));
    }
  }

  private context(op: string, key: string | undefined): S3CallContext {
    return { op, endpoint: this.endpoint, bucket: this.bucket, objectUri: key === undefined ? undefined : this.objectUri(key) };
  }

  private fullKey(key: string): string {
    if (key === '') throw new InvalidInputError(`${this.uri}: an object key must not be empty.`);
    return this.prefix + key;
  }

  private objectUri(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }
}

/** Default bounds of one HTTP attempt (CAREPIPE_S3_CONNECT_TIMEOUT_SECONDS, CAREPIPE_S3_REQUEST_TIMEOUT_SECONDS). */
export const DEFAULT_S3_CONNECT_TIMEOUT_MS = 5_000;
/** Shorter than every heartbeat timeout (60 s), so a hung request fails before its attempt is declared lost. */
export const DEFAULT_S3_REQUEST_TIMEOUT_MS = 30_000;

const unboundedSignals = new WeakSet<AbortSignal>();

/** The running activity's cancellation signal, or undefined outside an activity (the CLI, tests). */
export function activitySignal(): AbortSignal | undefined {
  const signal = asyncLocalStorage.getStore()?.cancellationSignal;
  // Every request in flight listens on it (a shard reads 8 objects ahead, a plan 16): Node's
  // default of 10 listeners would warn of a leak that is not one.
  if (signal && !unboundedSignals.has(signal)) {
    setMaxListeners(0, signal);
    unboundedSignals.add(signal);
  }
  return signal;
}

function sendOptions(): { abortSignal?: AbortSignal } {
  const abortSignal = activitySignal();
  return abortSignal ? { abortSignal } : {};
}

export function createS3Client(settings: S3Settings): S3Client {
  // The pinned SDK supports Node 20 (this project's floor); its notice that later SDK releases
  // will need Node 22 is not actionable at run time and would land in every worker's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const requestTimeout = settings.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS;
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials,
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs ?? DEFAULT_S3_CONNECT_TIMEOUT_MS,
      // To the response's headers; throwOnRequestTimeout makes it an error (TimeoutError, transient), not a warning.
      requestTimeout,
      throwOnRequestTimeout: true,
      // A body that stops arriving (or sending) for this long.
      socketTimeout: requestTimeout,
    },
  });
  // Inside the SDK's retry loop: one heartbeat per HTTP attempt, so its own retries count as progress.
  client.middlewareStack.add(
    (next) => async (args) => {
      asyncLocalStorage.getStore()?.heartbeat({ step: 'store' });
      return next(args);
    },
    { step: 'deserialize', name: 'carepipeActivityHeartbeat' },
  );
  return client;
}

/** Counts the bytes of a stream body on their way to the uploader. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.byteLength;
    callback(null, chunk);
  }
}
