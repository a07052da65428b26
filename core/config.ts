/**
 * Configuration: `readEnv()` picks the raw values out of the environment, `parseConfig()` applies
 * defaults, rejects bad or contradictory values with a sentence that names the variable, and
 * returns a typed config. Defaults serve the local stack (`npm run stack:up`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import type { LogLevel } from './log.js';
import { type IdentitySettings, identitySettings, lakeAllowList } from './identity/settings.js';
import { type ComplianceSettings, loadCompliance } from './compliance.js';

/** The repository root: this file is at dist/core/config.js once built. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export const ENV_VARS = [
  'CAREPIPE_STATE_DIR',
  'CAREPIPE_TOOLS_DIR',
  'CAREPIPE_LAKE',
  'CAREPIPE_S3_ENDPOINT',
  'CAREPIPE_S3_REGION',
  'CAREPIPE_S3_FORCE_PATH_STYLE',
  'CAREPIPE_S3_ACCESS_KEY_ID',
  'CAREPIPE_S3_SECRET_ACCESS_KEY',
  'CAREPIPE_S3_MULTIPART_THRESHOLD_MB',
  'CAREPIPE_S3_CONDITIONAL_WRITES',
  'CAREPIPE_S3_CONNECT_TIMEOUT_SECONDS',
  'CAREPIPE_S3_REQUEST_TIMEOUT_SECONDS',
  'CAREPIPE_S3_SSE',
  'CAREPIPE_S3_SSE_KMS_KEY_ID',
  'CAREPIPE_LOCAL_DEVELOPMENT',
  'CAREPIPE_COMPLIANCE_FILE',
  'CAREPIPE_TEMPORAL_ADDRESS',
  'CAREPIPE_TEMPORAL_NAMESPACE',
  'CAREPIPE_TEMPORAL_UI_URL',
  'CAREPIPE_TASK_QUEUE_PREFIX',
  'CAREPIPE_KEY_FILE',
  'CAREPIPE_CODEC_KEYS',
  'CAREPIPE_CODEC_KEY_ID',
  'CAREPIPE_PSEUDONYM_KEYS',
  'CAREPIPE_PSEUDONYM_KEY_ID',
  'CAREPIPE_AUDIT_KEYS',
  'CAREPIPE_AUDIT_KEY_ID',
  'CAREPIPE_WORKER_ACTIVITY_CONCURRENCY',
  'CAREPIPE_WORKER_WORKFLOW_CONCURRENCY',
  'CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS',
  'CAREPIPE_WORKER_CURATOR_THREADS',
  'CAREPIPE_INGEST_MAX_FILE_MB',
  'CAREPIPE_INGEST_MAX_DECODED_MB',
  'CAREPIPE_INGEST_MAX_STRING_KB',
  'CAREPIPE_INGEST_CURATE_DEADLINE_SECONDS',
  'CAREPIPE_PARQUET_WASM_RECYCLE_MB',
  'CAREPIPE_METRICS_PORT',
  'CAREPIPE_METRICS_HOST',
  'CAREPIPE_CODEC_SERVER_PORT',
  'CAREPIPE_CODEC_SERVER_HOST',
  'CAREPIPE_CODEC_SERVER_ORIGINS',
  'CAREPIPE_CODEC_SERVER_TOKEN',
  'CAREPIPE_TEMPORAL_TLS',
  'CAREPIPE_TEMPORAL_TLS_CERT',
  'CAREPIPE_TEMPORAL_TLS_KEY',
  'CAREPIPE_TEMPORAL_TLS_CA',
  'CAREPIPE_TEMPORAL_TLS_SERVER_NAME',
  'CAREPIPE_STACK_TEMPORAL_PORT',
  'CAREPIPE_STACK_UI_PORT',
  'CAREPIPE_STACK_S3_PORT',
  'CAREPIPE_LOG_LEVEL',
  'CAREPIPE_TF_BACKEND',
  'CAREPIPE_OIDC_ISSUER',
  'CAREPIPE_OIDC_AUDIENCE',
  'CAREPIPE_OIDC_JWKS',
  'CAREPIPE_OIDC_ROLES_CLAIM',
  'CAREPIPE_TOKEN',
  'CAREPIPE_DEV_ROLES',
  'CAREPIPE_LAKE_ALLOW',
  'CAREPIPE_CODEC_SERVER_TLS_CERT',
  'CAREPIPE_CODEC_SERVER_TLS_KEY',
  'CAREPIPE_CODEC_SERVER_ENCODE',
] as const;
export type EnvVar = (typeof ENV_VARS)[number];
export type RawEnv = Partial<Record<EnvVar, string>>;

export interface S3Settings {
  /** Undefined means the SDK's own endpoint (AWS S3). */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Undefined means the SDK's default credential chain. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  multipartThresholdBytes: number;
  /**
   * How the server enforces If-None-Match / If-Match: 'atomic' (AWS S3), 'per-request' (checked
   * one request at a time but not under races, e.g. versitygw 1.7.0), or 'unsupported'.
   */
  conditionalWrites: 'atomic' | 'per-request' | 'unsupported';
  /** One HTTP attempt's connection bound (default 5 s; activities/io/s3-store.ts). */
  connectTimeoutMs?: number;
  /** One HTTP attempt's bound to the response, and a body's idle bound (default 30 s). */
  requestTimeoutMs?: number;
  /** Server-side encryption asked for on every PutObject (CAREPIPE_S3_SSE, CAREPIPE_S3_SSE_KMS_KEY_ID). */
  sse: { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId: string } | { mode: 'none' };
  /**
   * CAREPIPE_LOCAL_DEVELOPMENT: PHI zones may be written to a store that does not confirm SSE (the
   * local stack's versitygw). True by default only when CAREPIPE_S3_ENDPOINT is unset (the local
   * stack); tests and the demo on versitygw set it explicitly.
   */
  localDevelopment: boolean;
}

export type LakeLocation = { kind: 's3'; uri: string; bucket: string; prefix: string } | { kind: 'file'; uri: string; root: string };

export interface KeyRing {
  activeId: string;
  keys: ReadonlyMap<string, Buffer>;
  /** Where the keys came from, for messages (a variable name or a file path, never a key). */
  source: string;
}

export interface StackPorts {
  temporal: number;
  ui: number;
  s3: number;
}

/**
 * TLS to the Temporal frontend: server-verified TLS, or mTLS with a client certificate (Temporal
 * Cloud, a self-hosted cluster with mTLS). PEM bytes are read once at start.
 */
export interface TemporalTls {
  /** The client certificate chain and key (mTLS); absent for server-only TLS. */
  clientCertPair?: { crt: Buffer; key: Buffer };
  /** CA bundle that signs the server's certificate; absent: the system roots. */
  serverRootCACertificate?: Buffer;
  /** The name to verify the server's certificate against, when it differs from the address host. */
  serverNameOverride?: string;
}

export interface MetricsSettings {
  /** Port of the Prometheus endpoint (`/metrics`); 0: no endpoint. */
  port: number;
  host: string;
}

/** The codec server (core/codec-server.ts) that lets the Web UI and the Temporal CLI read encrypted history. */
export interface CodecServerSettings {
  port: number;
  host: string;
  /** Browser origins allowed to call it: the Web UI's. */
  origins: string[];
  /** A bearer token callers must present, when set. */
  token?: string;
  /** PEM certificate chain and key: serve HTTPS (CAREPIPE_CODEC_SERVER_TLS_CERT/_KEY). */
  tls?: { cert: Buffer; key: Buffer };
  /** Whether POST /encode is served (CAREPIPE_CODEC_SERVER_ENCODE, default true): the Web UI encodes signal and query input with it. */
  encode: boolean;
}

export interface Config {
  stateDir: string;
  toolsDir: string;
  lake: LakeLocation;
  s3: S3Settings;
  temporal: { address: string; namespace: string; uiUrl: string; queuePrefix: string; tls?: TemporalTls };
  metrics: MetricsSettings;
  codecServer: CodecServerSettings;
  /** Who callers are (core/identity/): the trusted OIDC issuer, or the local dev identity. */
  identity: IdentitySettings;
  /** The lakes workers may read and write (CAREPIPE_LAKE_ALLOW; default the configured lake alone). */
  lakeAllow: string[];
  stack: StackPorts;
  worker: {
    activityConcurrency: number;
    workflowConcurrency: number;
    shutdownGraceSeconds: number;
    /** Worker threads curating raw files in a worker process (activities/ingest/curator-pool.ts); 0 curates inline. */
    curatorThreads: number;
  };
  /** Bounds on what one raw file may cost ingest (docs/parquet-safety.md). */
  ingest: IngestLimits;
  logLevel: LogLevel;
  /** Retention and audit settings from compliance.yaml (CAREPIPE_COMPLIANCE_FILE); defaults when unset. */
  compliance: ComplianceSettings;
  /** TensorFlow.js backend for neural-net training (activities/train/tf-backend.ts). */
  tfBackend: 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
  /** Resolved lazily by requireKeys(): commands that need no keys (stack, --help) must not fail for lack of them. */
  keySources: {
    file: string;
    fileExplicit: boolean;
    codecEnv?: string;
    codecId?: string;
    pseudonymEnv?: string;
    pseudonymId?: string;
    auditEnv?: string;
    auditId?: string;
  };
}

/** Bounds on one raw file (docs/parquet-safety.md); each breach quarantines the file or rejects the row with a reason. */
export interface IngestLimits {
  /** An object listed larger than this is quarantined (FileTooLargeError) without being read. */
  maxFileBytes: number;
  /** A file whose footer says its columns decode to more than this is quarantined (FileTooLargeError) before decoding. */
  maxDecodedBytes: number;
  /** A row with a longer string (UTF-8 bytes) in a contract column is rejected (string_too_long). */
  maxStringBytes: number;
  /** A curator thread still on one file after this long is stopped; the file counts as having killed it. */
  curateDeadlineMs: number;
  /** parquet-wasm's instance is replaced once its memory passes this (wasm memory never shrinks). */
  wasmRecycleBytes: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxFileBytes: 512 * 2 ** 20,
  maxDecodedBytes: 1024 * 2 ** 20,
  maxStringBytes: 64 * 2 ** 10,
  curateDeadlineMs: 600_000,
  wasmRecycleBytes: 512 * 2 ** 20,
};

/** Local-stack credentials for versitygw: not secret, the server only listens on loopback. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'carepipe', secretAccessKey: 'carepipe-local-secret' };
export const DEFAULT_BUCKET = 'carepipe-lake';

export function readEnv(env: NodeJS.ProcessEnv = process.env): RawEnv {
  const raw: RawEnv = {};
  for (const name of ENV_VARS) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') raw[name] = value.trim();
  }
  return raw;
}

/**
 * A value given on the command line in place of a variable (e.g. `carepipe worker --metrics-port`):
 * read by the variable's own rules, and named by its flag in the message when refused.
 */
export interface ConfigOverride {
  value: string;
  flag: string;
}
export type ConfigOverrides = Partial<Record<EnvVar, ConfigOverride>>;

/** The raw values with, for those the command line gave, the flag that gave them. */
type RawInput = RawEnv & { readonly flags?: Partial<Record<EnvVar, string>> };

/** What a message calls a value: its flag when the command line gave it, else its variable. */
const label = (raw: RawInput, name: EnvVar): string => raw.flags?.[name] ?? name;

function int(raw: RawInput, name: EnvVar, fallback: number, min: number, max: number): number {
  const value = raw[name];
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(`${label(raw, name)} must be a whole number, got "${value}".`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`${label(raw, name)} must be between ${min} and ${max}, got ${n}.`);
  return n;
}

function bool(raw: RawInput, name: EnvVar, fallback: boolean): boolean {
  const value = raw[name];
  if (value === undefined) return fallback;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`${label(raw, name)} must be true or false, got "${value}".`);
}

export function parseLakeUri(uri: string, name = 'CAREPIPE_LAKE'): LakeLocation {
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length).replace(/\/+$/, '');
    const [bucket, ...prefixParts] = rest.split('/');
    if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError(`${name} must name a valid S3 bucket (s3://bucket/prefix), got "${uri}".`);
    }
    const prefix = prefixParts.filter(Boolean).join('/');
    return { kind: 's3', uri: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`, bucket, prefix: prefix ? `${prefix}/` : '' };
  }
  if (uri.startsWith('file://')) {
    let root: string;
    try {
      root = fileURLToPath(uri);
    } catch (cause) {
      throw new ConfigError(`${name} must be an absolute file:// URI (file:///abs/path), got "${uri}".`, { cause });
    }
    root = root.replace(/\/+$/, '') || '/';
    return { kind: 'file', uri: `file://${root}`, root };
  }
  throw new ConfigError(`${name} must start with s3:// or file://, got "${uri}".`);
}

const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];
const CONDITIONAL_WRITES = ['atomic', 'per-request', 'unsupported'] as const;
const TF_BACKENDS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;

function tfBackend(raw: RawEnv): Config['tfBackend'] {
  const value = raw.CAREPIPE_TF_BACKEND ?? 'auto';
  if (!(TF_BACKENDS as readonly string[]).includes(value)) {
    throw new ConfigError(`CAREPIPE_TF_BACKEND must be one of ${TF_BACKENDS.join(', ')}, got "${value}".`);
  }
  return value as Config['tfBackend'];
}

function conditionalWrites(raw: RawEnv, endpoint: string | undefined): S3Settings['conditionalWrites'] {
  const value = raw.CAREPIPE_S3_CONDITIONAL_WRITES;
  if (value === undefined) return endpoint === undefined ? 'atomic' : 'per-request';
  if (!(CONDITIONAL_WRITES as readonly string[]).includes(value)) {
    throw new ConfigError(`CAREPIPE_S3_CONDITIONAL_WRITES must be one of ${CONDITIONAL_WRITES.join(', ')}, got "${value}".`);
  }
  return value as S3Settings['conditionalWrites'];
}

function sseSettings(raw: RawEnv): S3Settings['sse'] {
  const mode = raw.CAREPIPE_S3_SSE ?? (raw.CAREPIPE_S3_SSE_KMS_KEY_ID ? 'aws:kms' : 'AES256');
  if (mode === 'aws:kms') {
    if (!raw.CAREPIPE_S3_SSE_KMS_KEY_ID) throw new ConfigError('CAREPIPE_S3_SSE is aws:kms but CAREPIPE_S3_SSE_KMS_KEY_ID is not set: name the KMS key.');
    return { mode, kmsKeyId: raw.CAREPIPE_S3_SSE_KMS_KEY_ID };
  }
  if (raw.CAREPIPE_S3_SSE_KMS_KEY_ID)
    throw new ConfigError(`CAREPIPE_S3_SSE_KMS_KEY_ID is set but CAREPIPE_S3_SSE is ${mode}: set CAREPIPE_S3_SSE=aws:kms, or drop the key id.`);
  if (mode === 'AES256' || mode === 'none') return { mode };
  throw new ConfigError(`CAREPIPE_S3_SSE must be one of AES256, aws:kms, none, got "${mode}".`);
}

/** The config from the environment's raw values and the command line's overrides of some of them. */
export function parseConfig(env: RawEnv, overrides: ConfigOverrides = {}): Config {
  const raw: RawInput = { ...env, flags: {} };
  for (const [name, o] of Object.entries(overrides) as [EnvVar, ConfigOverride][]) {
    raw[name] = o.value;
    raw.flags![name] = o.flag;
  }
  const stateDir = resolve(REPO_ROOT, raw.CAREPIPE_STATE_DIR ?? '.state');
  const toolsDir = resolve(REPO_ROOT, raw.CAREPIPE_TOOLS_DIR ?? '.tools');
  const stack: StackPorts = {
    temporal: int(raw, 'CAREPIPE_STACK_TEMPORAL_PORT', 7233, 1, 65535),
    ui: int(raw, 'CAREPIPE_STACK_UI_PORT', 8233, 1, 65535),
    s3: int(raw, 'CAREPIPE_STACK_S3_PORT', 7070, 1, 65535),
  };
  const ports = [stack.temporal, stack.ui, stack.s3];
  if (new Set(ports).size !== ports.length) {
    throw new ConfigError('CAREPIPE_STACK_TEMPORAL_PORT, CAREPIPE_STACK_UI_PORT and CAREPIPE_STACK_S3_PORT must be three different ports.');
  }

  const lake = parseLakeUri(raw.CAREPIPE_LAKE ?? `s3://${DEFAULT_BUCKET}`);

  const endpointRaw = raw.CAREPIPE_S3_ENDPOINT ?? `http://127.0.0.1:${stack.s3}`;
  const endpoint = endpointRaw === 'aws' ? undefined : endpointRaw;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) {
    throw new ConfigError(`CAREPIPE_S3_ENDPOINT must be http(s)://host[:port] or "aws", got "${endpointRaw}".`);
  }
  const accessKeyId = raw.CAREPIPE_S3_ACCESS_KEY_ID;
  const secretAccessKey = raw.CAREPIPE_S3_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('CAREPIPE_S3_ACCESS_KEY_ID and CAREPIPE_S3_SECRET_ACCESS_KEY must be set together.');
  }
  const isLocalEndpoint = endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(endpoint);
  if (endpoint !== undefined && endpoint.startsWith('http://') && !isLocalEndpoint) {
    throw new ConfigError(`CAREPIPE_S3_ENDPOINT must be https:// for a server off this machine (data in transit is PHI), got "${endpointRaw}".`);
  }
  const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : isLocalEndpoint ? LOCAL_S3_CREDENTIALS : undefined;

  const s3: S3Settings = {
    endpoint,
    region: raw.CAREPIPE_S3_REGION ?? 'us-east-1',
    forcePathStyle: bool(raw, 'CAREPIPE_S3_FORCE_PATH_STYLE', endpoint !== undefined),
    credentials,
    multipartThresholdBytes: int(raw, 'CAREPIPE_S3_MULTIPART_THRESHOLD_MB', 16, 5, 5 * 1024) * 1024 * 1024,
    conditionalWrites: conditionalWrites(raw, endpoint),
    connectTimeoutMs: int(raw, 'CAREPIPE_S3_CONNECT_TIMEOUT_SECONDS', 5, 1, 600) * 1000,
    requestTimeoutMs: int(raw, 'CAREPIPE_S3_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
    sse: sseSettings(raw),
    localDevelopment: bool(raw, 'CAREPIPE_LOCAL_DEVELOPMENT', raw.CAREPIPE_S3_ENDPOINT === undefined),
  };

  const address = raw.CAREPIPE_TEMPORAL_ADDRESS ?? `127.0.0.1:${stack.temporal}`;
  if (!/^[^\s:/]+:\d{1,5}$/.test(address)) {
    throw new ConfigError(`CAREPIPE_TEMPORAL_ADDRESS must be host:port, got "${address}".`);
  }
  const uiUrl = (raw.CAREPIPE_TEMPORAL_UI_URL ?? `http://localhost:${stack.ui}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(uiUrl)) throw new ConfigError(`CAREPIPE_TEMPORAL_UI_URL must be an http(s) URL, got "${uiUrl}".`);

  const queuePrefix = raw.CAREPIPE_TASK_QUEUE_PREFIX ?? 'carepipe';
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(queuePrefix)) {
    throw new ConfigError(`CAREPIPE_TASK_QUEUE_PREFIX must be 1-63 characters of a-z, 0-9, '.', '_' and '-', got "${queuePrefix}".`);
  }

  const logLevel = (raw.CAREPIPE_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`CAREPIPE_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw.CAREPIPE_LOG_LEVEL}".`);
  }

  if (raw.CAREPIPE_KEY_FILE && (raw.CAREPIPE_CODEC_KEYS || raw.CAREPIPE_PSEUDONYM_KEYS)) {
    throw new ConfigError('Set either CAREPIPE_KEY_FILE or CAREPIPE_CODEC_KEYS/CAREPIPE_PSEUDONYM_KEYS, not both.');
  }
  if (raw.CAREPIPE_CODEC_KEY_ID && !raw.CAREPIPE_CODEC_KEYS) {
    throw new ConfigError('CAREPIPE_CODEC_KEY_ID is set but CAREPIPE_CODEC_KEYS is not: the active key id must name one of those keys.');
  }
  if (raw.CAREPIPE_AUDIT_KEY_ID && !raw.CAREPIPE_AUDIT_KEYS) {
    throw new ConfigError('CAREPIPE_AUDIT_KEY_ID is set but CAREPIPE_AUDIT_KEYS is not: the active key id must name one of those keys.');
  }
  if (raw.CAREPIPE_PSEUDONYM_KEY_ID && !raw.CAREPIPE_PSEUDONYM_KEYS) {
    throw new ConfigError('CAREPIPE_PSEUDONYM_KEY_ID is set but CAREPIPE_PSEUDONYM_KEYS is not: the active key id must name one of those keys.');
  }

  const metricsHost = raw.CAREPIPE_METRICS_HOST ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(metricsHost))
    throw new ConfigError(`${label(raw, 'CAREPIPE_METRICS_HOST')} must be a host name or IP address, got "${metricsHost}".`);
  const tls = temporalTls(raw);
  const codecServer = codecServerSettings(raw, uiUrl);

  return {
    stateDir,
    toolsDir,
    lake,
    s3,
    temporal: { address, namespace: raw.CAREPIPE_TEMPORAL_NAMESPACE ?? 'default', uiUrl, queuePrefix, ...(tls ? { tls } : {}) },
    metrics: { port: int(raw, 'CAREPIPE_METRICS_PORT', 0, 0, 65535), host: metricsHost },
    codecServer,
    identity: identitySettings(raw),
    lakeAllow: lakeAllowList(raw, lake.uri, parseLakeUri),
    stack,
    worker: {
      activityConcurrency: int(raw, 'CAREPIPE_WORKER_ACTIVITY_CONCURRENCY', 8, 1, 1000),
      workflowConcurrency: int(raw, 'CAREPIPE_WORKER_WORKFLOW_CONCURRENCY', 40, 2, 1000),
      shutdownGraceSeconds: int(raw, 'CAREPIPE_WORKER_SHUTDOWN_GRACE_SECONDS', 30, 1, 3600),
      curatorThreads: int(raw, 'CAREPIPE_WORKER_CURATOR_THREADS', Math.min(availableParallelism(), 256), 0, 256),
    },
    ingest: {
      maxFileBytes: int(raw, 'CAREPIPE_INGEST_MAX_FILE_MB', 512, 1, 1_048_576) * 2 ** 20,
      maxDecodedBytes: int(raw, 'CAREPIPE_INGEST_MAX_DECODED_MB', 1024, 1, 1_048_576) * 2 ** 20,
      maxStringBytes: int(raw, 'CAREPIPE_INGEST_MAX_STRING_KB', 64, 1, 1_048_576) * 2 ** 10,
      curateDeadlineMs: int(raw, 'CAREPIPE_INGEST_CURATE_DEADLINE_SECONDS', 600, 1, 86_400) * 1000,
      // wasm32 memory ends at 4 GiB.
      wasmRecycleBytes: int(raw, 'CAREPIPE_PARQUET_WASM_RECYCLE_MB', 512, 16, 4096) * 2 ** 20,
    },
    logLevel,
    compliance: loadCompliance(raw.CAREPIPE_COMPLIANCE_FILE === undefined ? undefined : resolve(raw.CAREPIPE_COMPLIANCE_FILE)),
    tfBackend: tfBackend(raw),
    keySources: {
      file: raw.CAREPIPE_KEY_FILE ? resolve(raw.CAREPIPE_KEY_FILE) : resolve(stateDir, 'keys.json'),
      fileExplicit: raw.CAREPIPE_KEY_FILE !== undefined,
      codecEnv: raw.CAREPIPE_CODEC_KEYS,
      codecId: raw.CAREPIPE_CODEC_KEY_ID,
      pseudonymEnv: raw.CAREPIPE_PSEUDONYM_KEYS,
      pseudonymId: raw.CAREPIPE_PSEUDONYM_KEY_ID,
      auditEnv: raw.CAREPIPE_AUDIT_KEYS,
      auditId: raw.CAREPIPE_AUDIT_KEY_ID,
    },
  };
}

function codecServerSettings(raw: RawInput, uiUrl: string): CodecServerSettings {
  const host = raw.CAREPIPE_CODEC_SERVER_HOST ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host))
    throw new ConfigError(`${label(raw, 'CAREPIPE_CODEC_SERVER_HOST')} must be a host name or IP address, got "${host}".`);
  // The Web UI's origin is whatever host the browser typed: for a local UI, both loopback spellings.
  const ui = new URL(uiUrl);
  const defaults =
    ui.hostname === 'localhost' || ui.hostname === '127.0.0.1' ? [`${ui.protocol}//localhost:${ui.port}`, `${ui.protocol}//127.0.0.1:${ui.port}`] : [ui.origin];
  const origins =
    raw.CAREPIPE_CODEC_SERVER_ORIGINS?.split(',')
      .map((o) => o.trim())
      .filter(Boolean) ?? defaults;
  for (const o of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`CAREPIPE_CODEC_SERVER_ORIGINS must list origins like http://host:port, got "${o}".`);
  }
  const token = raw.CAREPIPE_CODEC_SERVER_TOKEN;
  if (token !== undefined && token.length < 16) throw new ConfigError('CAREPIPE_CODEC_SERVER_TOKEN must be at least 16 characters.');
  const cert = pemFile(raw, 'CAREPIPE_CODEC_SERVER_TLS_CERT');
  const key = pemFile(raw, 'CAREPIPE_CODEC_SERVER_TLS_KEY');
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError('CAREPIPE_CODEC_SERVER_TLS_CERT and CAREPIPE_CODEC_SERVER_TLS_KEY must be set together.');
  return {
    port: int(raw, 'CAREPIPE_CODEC_SERVER_PORT', 8234, 1, 65535),
    host,
    origins,
    ...(token !== undefined ? { token } : {}),
    ...(cert && key ? { tls: { cert, key } } : {}),
    encode: bool(raw, 'CAREPIPE_CODEC_SERVER_ENCODE', true),
  };
}

function pemFile(raw: RawInput, name: EnvVar): Buffer | undefined {
  const path = raw[name];
  if (path === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(path));
  } catch (cause) {
    throw new ConfigError(`${name} names ${resolve(path)}, which cannot be read.`, { cause });
  }
  if (!bytes.includes('-----BEGIN ')) throw new ConfigError(`${name} names ${resolve(path)}, which is not a PEM file.`);
  return bytes;
}

/** TLS settings from CAREPIPE_TEMPORAL_TLS_*; undefined: plain TCP (the local dev server). */
function temporalTls(raw: RawInput): TemporalTls | undefined {
  const crt = pemFile(raw, 'CAREPIPE_TEMPORAL_TLS_CERT');
  const key = pemFile(raw, 'CAREPIPE_TEMPORAL_TLS_KEY');
  if ((crt === undefined) !== (key === undefined)) {
    throw new ConfigError('CAREPIPE_TEMPORAL_TLS_CERT and CAREPIPE_TEMPORAL_TLS_KEY must be set together (the client certificate and its key).');
  }
  const ca = pemFile(raw, 'CAREPIPE_TEMPORAL_TLS_CA');
  const serverName = raw.CAREPIPE_TEMPORAL_TLS_SERVER_NAME;
  const any = crt !== undefined || ca !== undefined || serverName !== undefined;
  const enabled = bool(raw, 'CAREPIPE_TEMPORAL_TLS', any);
  if (!enabled) {
    if (any) throw new ConfigError('CAREPIPE_TEMPORAL_TLS is false but CAREPIPE_TEMPORAL_TLS_CERT, _CA or _SERVER_NAME is set: drop one or the other.');
    return undefined;
  }
  return {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
  };
}

let cached: Config | undefined;
/**
 * Reads and validates the environment once per process; with command-line overrides (which only
 * a command's own start gives), the environment and those together, not cached.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides?: ConfigOverrides): Config {
  if (env !== process.env || overrides) return parseConfig(readEnv(env), overrides);
  cached ??= parseConfig(readEnv(env));
  return cached;
}

function decodeKey(value: string, where: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32 || key.toString('base64') !== value) {
    throw new ConfigError(`${where} must be a base64-encoded 32-byte key.`);
  }
  return key;
}

/** Parses "id:base64,id2:base64" with an optional active id (the first key by default). */
function parseKeyList(list: string, activeId: string | undefined, varName: string, idVar: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of list.split(',')) {
    const [id, value, ...extra] = entry.trim().split(':');
    if (!id || !value || extra.length > 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new ConfigError(`${varName} must be a comma-separated list of id:base64key entries.`);
    }
    keys.set(id, decodeKey(value, `${varName} entry "${id}"`));
  }
  const active = activeId ?? keys.keys().next().value;
  if (active === undefined || !keys.has(active)) {
    throw new ConfigError(`${idVar} is "${activeId}", which is not one of the key ids in ${varName}.`);
  }
  return { activeId: active, keys, source: varName };
}

function ringFromFile(value: unknown, file: string, section: string): KeyRing {
  const obj = value as { active?: unknown; keys?: unknown } | undefined;
  if (!obj || typeof obj.active !== 'string' || typeof obj.keys !== 'object' || obj.keys === null) {
    throw new ConfigError(`${file} must hold {"${section}": {"active": id, "keys": {id: base64key}}}.`);
  }
  const keys = new Map<string, Buffer>();
  for (const [id, v] of Object.entries(obj.keys as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new ConfigError(`${file}: ${section}.keys.${id} must be a base64 string.`);
    keys.set(id, decodeKey(v, `${file}: ${section}.keys.${id}`));
  }
  if (!keys.has(obj.active)) throw new ConfigError(`${file}: ${section}.active names a key that is not in ${section}.keys.`);
  return { activeId: obj.active, keys, source: file };
}

export interface Keys {
  /** Encrypts Temporal payloads. */
  codec: KeyRing;
  /** Keys the HMAC pseudonyms and date shifts of de-identification. */
  pseudonym: KeyRing;
  /**
   * Keys the audit trail's HMAC chain (activities/audit/). Absent: derived from the pseudonym ring
   * (`auditKeyRing`), so key files written before the audit ring existed keep working.
   */
  audit?: KeyRing;
}

/** Resolves the key rings, failing with a sentence that names the variable or file to fix. */
export function requireKeys(config: Config): Keys {
  const s = config.keySources;
  if (s.codecEnv || s.pseudonymEnv) {
    if (!s.codecEnv) throw new ConfigError('CAREPIPE_PSEUDONYM_KEYS is set but CAREPIPE_CODEC_KEYS is not: set both, or use CAREPIPE_KEY_FILE.');
    if (!s.pseudonymEnv) throw new ConfigError('CAREPIPE_CODEC_KEYS is set but CAREPIPE_PSEUDONYM_KEYS is not: set both, or use CAREPIPE_KEY_FILE.');
    return {
      codec: parseKeyList(s.codecEnv, s.codecId, 'CAREPIPE_CODEC_KEYS', 'CAREPIPE_CODEC_KEY_ID'),
      pseudonym: parseKeyList(s.pseudonymEnv, s.pseudonymId, 'CAREPIPE_PSEUDONYM_KEYS', 'CAREPIPE_PSEUDONYM_KEY_ID'),
      ...(s.auditEnv ? { audit: parseKeyList(s.auditEnv, s.auditId, 'CAREPIPE_AUDIT_KEYS', 'CAREPIPE_AUDIT_KEY_ID') } : {}),
    };
  }
  const doc = readKeyFile(s);
  const audit = s.auditEnv
    ? parseKeyList(s.auditEnv, s.auditId, 'CAREPIPE_AUDIT_KEYS', 'CAREPIPE_AUDIT_KEY_ID')
    : doc.audit
      ? ringFromFile(doc.audit, s.file, 'audit')
      : undefined;
  return { codec: ringFromFile(doc.codec, s.file, 'codec'), pseudonym: ringFromFile(doc.pseudonym, s.file, 'pseudonym'), ...(audit ? { audit } : {}) };
}

/**
 * The codec ring alone, for a process that decrypts payloads but must not hold the pseudonym key
 * (the codec server): from CAREPIPE_CODEC_KEYS when set, else from the key file's `codec` ring.
 */
export function requireCodecKeys(config: Config): KeyRing {
  const s = config.keySources;
  if (s.codecEnv) return parseKeyList(s.codecEnv, s.codecId, 'CAREPIPE_CODEC_KEYS', 'CAREPIPE_CODEC_KEY_ID');
  if (s.pseudonymEnv) throw new ConfigError('CAREPIPE_PSEUDONYM_KEYS is set but CAREPIPE_CODEC_KEYS is not: the codec server needs the codec keys.');
  return ringFromFile(readKeyFile(s).codec, s.file, 'codec');
}

/**
 * The audit ring alone, for a process that appends audit records but must not hold the pseudonym
 * key (the codec server recording decrypts): CAREPIPE_AUDIT_KEYS, else the key file's `audit` ring.
 */
export function requireAuditKeys(config: Config): KeyRing {
  const s = config.keySources;
  if (s.auditEnv) return parseKeyList(s.auditEnv, s.auditId, 'CAREPIPE_AUDIT_KEYS', 'CAREPIPE_AUDIT_KEY_ID');
  const doc = readKeyFile(s);
  if (!doc.audit)
    throw new ConfigError(
      `${s.file} has no audit ring, and CAREPIPE_AUDIT_KEYS is not set: a process without the pseudonym key needs one of them to write audit records.`,
    );
  return ringFromFile(doc.audit, s.file, 'audit');
}

function readKeyFile(s: Config['keySources']): { codec?: unknown; pseudonym?: unknown; audit?: unknown } {
  if (!existsSync(s.file)) {
    throw new ConfigError(
      s.fileExplicit
        ? `CAREPIPE_KEY_FILE names ${s.file}, which does not exist.`
        : `No keys: ${s.file} does not exist. Run \`npm run stack:up\` to create local dev keys, or set CAREPIPE_KEY_FILE or CAREPIPE_CODEC_KEYS and CAREPIPE_PSEUDONYM_KEYS.`,
    );
  }
  try {
    return JSON.parse(readFileSync(s.file, 'utf8')) as { codec?: unknown; pseudonym?: unknown; audit?: unknown };
  } catch (cause) {
    throw new ConfigError(`${s.file} (CAREPIPE_KEY_FILE) is not valid JSON.`, { cause });
  }
}
