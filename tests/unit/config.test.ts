import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_S3_CREDENTIALS, parseConfig, parseLakeUri, readEnv, requireAuditKeys, requireCodecKeys, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { newKeyFileContent } from '../../infra/keys.js';

const key = () => Buffer.alloc(32, 7).toString('base64');

test('defaults serve the local stack', (t) => {
  const c = parseConfig({});
  t.is(c.temporal.address, '127.0.0.1:7233');
  t.is(c.temporal.namespace, 'default');
  t.is(c.temporal.uiUrl, 'http://localhost:8233');
  t.is(c.temporal.queuePrefix, 'carepipe');
  t.deepEqual(c.lake, { kind: 's3', uri: 's3://carepipe-lake', bucket: 'carepipe-lake', prefix: '' });
  t.is(c.s3.endpoint, 'http://127.0.0.1:7070');
  t.true(c.s3.forcePathStyle);
  t.deepEqual(c.s3.credentials, LOCAL_S3_CREDENTIALS);
  t.is(c.worker.activityConcurrency, 8);
});

test('readEnv keeps only carepipe variables and drops blank values', (t) => {
  t.deepEqual(readEnv({ CAREPIPE_LAKE: ' file:///x ', CAREPIPE_LOG_LEVEL: '  ', HOME: '/root' }), { CAREPIPE_LAKE: 'file:///x' });
});

test('a lake URI is parsed into bucket and prefix, or a folder', (t) => {
  t.deepEqual(parseLakeUri('s3://my-lake/prod/ehr/'), { kind: 's3', uri: 's3://my-lake/prod/ehr', bucket: 'my-lake', prefix: 'prod/ehr/' });
  t.deepEqual(parseLakeUri('file:///data/lake/'), { kind: 'file', uri: 'file:///data/lake', root: '/data/lake' });
});

test('bad values fail with a sentence that names the variable', (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ CAREPIPE_LAKE: 'hdfs://x' }, /^CAREPIPE_LAKE must start with s3:\/\/ or file:\/\//],
    [{ CAREPIPE_LAKE: 's3://A_B' }, /^CAREPIPE_LAKE must name a valid S3 bucket/],
    [{ CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: '0' }, /^CAREPIPE_WORKER_ACTIVITY_CONCURRENCY must be between 1 and 1000, got 0/],
    [{ CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: 'many' }, /^CAREPIPE_WORKER_ACTIVITY_CONCURRENCY must be a whole number/],
    [{ CAREPIPE_STACK_S3_PORT: '7233' }, /must be three different ports/],
    [{ CAREPIPE_S3_ACCESS_KEY_ID: 'AKIA' }, /^CAREPIPE_S3_ACCESS_KEY_ID and CAREPIPE_S3_SECRET_ACCESS_KEY must be set together/],
    [{ CAREPIPE_S3_ENDPOINT: 'localhost:9000' }, /^CAREPIPE_S3_ENDPOINT must be http\(s\):\/\/host\[:port\] or "aws"/],
    [{ CAREPIPE_S3_FORCE_PATH_STYLE: 'maybe' }, /^CAREPIPE_S3_FORCE_PATH_STYLE must be true or false/],
    [{ CAREPIPE_TEMPORAL_ADDRESS: 'http://x:7233' }, /^CAREPIPE_TEMPORAL_ADDRESS must be host:port/],
    [{ CAREPIPE_LOG_LEVEL: 'loud' }, /^CAREPIPE_LOG_LEVEL must be one of debug, info, warn, error/],
    [{ CAREPIPE_KEY_FILE: '/k.json', CAREPIPE_CODEC_KEYS: `a:${key()}` }, /^Set either CAREPIPE_KEY_FILE or CAREPIPE_CODEC_KEYS/],
    [{ CAREPIPE_CODEC_KEY_ID: 'a' }, /^CAREPIPE_CODEC_KEY_ID is set but CAREPIPE_CODEC_KEYS is not/],
    [{ CAREPIPE_TASK_QUEUE_PREFIX: 'Bad Prefix' }, /^CAREPIPE_TASK_QUEUE_PREFIX must be/],
    [{ CAREPIPE_TF_BACKEND: 'cuda' }, /^CAREPIPE_TF_BACKEND must be one of auto, tfjs-node-gpu, tfjs-node, wasm, cpu, got "cuda"/],
    [{ CAREPIPE_S3_CONDITIONAL_WRITES: 'maybe' }, /^CAREPIPE_S3_CONDITIONAL_WRITES must be one of atomic, per-request, unsupported/],
    [{ CAREPIPE_S3_ENDPOINT: 'http://minio.internal:9000' }, /^CAREPIPE_S3_ENDPOINT must be https:\/\/ for a server off this machine/],
    [{ CAREPIPE_S3_SSE: 'aws:kms' }, /^CAREPIPE_S3_SSE is aws:kms but CAREPIPE_S3_SSE_KMS_KEY_ID is not set/],
    [{ CAREPIPE_S3_SSE: 'AES256', CAREPIPE_S3_SSE_KMS_KEY_ID: 'k' }, /^CAREPIPE_S3_SSE_KMS_KEY_ID is set but CAREPIPE_S3_SSE is AES256/],
    [{ CAREPIPE_S3_SSE: 'rot13' }, /^CAREPIPE_S3_SSE must be one of AES256, aws:kms, none, got "rot13"/],
    [{ CAREPIPE_LOCAL_DEVELOPMENT: 'sometimes' }, /^CAREPIPE_LOCAL_DEVELOPMENT must be true or false/],
    [{ CAREPIPE_AUDIT_KEY_ID: 'a' }, /^CAREPIPE_AUDIT_KEY_ID is set but CAREPIPE_AUDIT_KEYS is not/],
  ];
  for (const [env, message] of cases) {
    const err = t.throws(() => parseConfig(env), { instanceOf: ConfigError }, JSON.stringify(env));
    t.regex(err?.message ?? '', message);
  }
});

test('SSE is asked for by default; local development is assumed only for the local stack (no endpoint set)', (t) => {
  t.deepEqual(parseConfig({}).s3.sse, { mode: 'AES256' });
  t.true(parseConfig({}).s3.localDevelopment);
  t.false(parseConfig({ CAREPIPE_S3_ENDPOINT: 'aws' }).s3.localDevelopment);
  t.false(parseConfig({ CAREPIPE_S3_ENDPOINT: 'http://127.0.0.1:9000' }).s3.localDevelopment);
  t.true(parseConfig({ CAREPIPE_S3_ENDPOINT: 'http://127.0.0.1:9000', CAREPIPE_LOCAL_DEVELOPMENT: 'true' }).s3.localDevelopment);
  t.deepEqual(parseConfig({ CAREPIPE_S3_ENDPOINT: 'https://s3.internal', CAREPIPE_S3_SSE_KMS_KEY_ID: 'arn:k' }).s3.sse, { mode: 'aws:kms', kmsKeyId: 'arn:k' });
});

test('the SDK default endpoint and credential chain are used when the endpoint is "aws"', (t) => {
  const c = parseConfig({ CAREPIPE_S3_ENDPOINT: 'aws', CAREPIPE_LAKE: 's3://prod-lake' });
  t.is(c.s3.endpoint, undefined);
  t.is(c.s3.credentials, undefined);
  t.false(c.s3.forcePathStyle);
});

test('keys come from the environment, with the active id checked', (t) => {
  const k = key();
  const keys = requireKeys(parseConfig({ CAREPIPE_CODEC_KEYS: `old:${k},new:${k}`, CAREPIPE_CODEC_KEY_ID: 'new', CAREPIPE_PSEUDONYM_KEYS: `p1:${k}` }));
  t.is(keys.codec.activeId, 'new');
  t.deepEqual([...keys.codec.keys.keys()], ['old', 'new']);
  t.is(keys.pseudonym.activeId, 'p1');
  const err = t.throws(() => requireKeys(parseConfig({ CAREPIPE_CODEC_KEYS: `a:${k}`, CAREPIPE_CODEC_KEY_ID: 'b', CAREPIPE_PSEUDONYM_KEYS: `p:${k}` })), {
    instanceOf: ConfigError,
  });
  t.is(err?.message, 'CAREPIPE_CODEC_KEY_ID is "b", which is not one of the key ids in CAREPIPE_CODEC_KEYS.');
  const short = t.throws(() => requireKeys(parseConfig({ CAREPIPE_CODEC_KEYS: 'a:c2hvcnQ=', CAREPIPE_PSEUDONYM_KEYS: `p:${k}` })), { instanceOf: ConfigError });
  t.is(short?.message, 'CAREPIPE_CODEC_KEYS entry "a" must be a base64-encoded 32-byte key.');
});

test('keys come from a key file, and a missing file says how to make one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-keys-'));
  const missing = t.throws(() => requireKeys(parseConfig({ CAREPIPE_STATE_DIR: dir })), { instanceOf: ConfigError });
  t.regex(missing?.message ?? '', /does not exist\. Run `npm run stack:up` to create local dev keys/);
  const file = join(dir, 'keys.json');
  writeFileSync(file, newKeyFileContent('k1'));
  const keys = requireKeys(parseConfig({ CAREPIPE_KEY_FILE: file }));
  t.is(keys.codec.activeId, 'k1');
  t.is(keys.codec.keys.get('k1')?.length, 32);
  t.not(keys.codec.keys.get('k1')?.toString('hex'), keys.pseudonym.keys.get('k1')?.toString('hex'));
  writeFileSync(file, '{"codec": {"active": "x", "keys": {}}, "pseudonym": {}}');
  const bad = t.throws(() => requireKeys(parseConfig({ CAREPIPE_KEY_FILE: file })), { instanceOf: ConfigError });
  t.is(bad?.message, `${file}: codec.active names a key that is not in codec.keys.`);
});

test('the codec server needs only the codec ring, from the environment or the key file', (t) => {
  const k = key();
  const ring = requireCodecKeys(parseConfig({ CAREPIPE_CODEC_KEYS: `c1:${k}` }));
  t.is(ring.activeId, 'c1');
  const pseudonymOnly = t.throws(() => requireCodecKeys(parseConfig({ CAREPIPE_PSEUDONYM_KEYS: `p:${k}` })), { instanceOf: ConfigError });
  t.regex(pseudonymOnly?.message ?? '', /CAREPIPE_CODEC_KEYS is not/);
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-keys-'));
  const file = join(dir, 'keys.json');
  writeFileSync(file, newKeyFileContent('k1'));
  t.deepEqual(requireCodecKeys(parseConfig({ CAREPIPE_KEY_FILE: file })).keys, requireKeys(parseConfig({ CAREPIPE_KEY_FILE: file })).codec.keys);
});

test("codec server settings: loopback, the Web UI's origins, an optional token of some length", (t) => {
  const local = parseConfig({}).codecServer;
  t.deepEqual(local, { port: 8234, host: '127.0.0.1', origins: ['http://localhost:8233', 'http://127.0.0.1:8233'], encode: true });
  t.false(parseConfig({ CAREPIPE_CODEC_SERVER_ENCODE: 'false' }).codecServer.encode);
  t.throws(() => parseConfig({ CAREPIPE_CODEC_SERVER_TLS_CERT: '/nonexistent/tls.crt' }), {
    instanceOf: ConfigError,
    message: /CAREPIPE_CODEC_SERVER_TLS_CERT names .* which cannot be read/,
  });
  const remote = parseConfig({ CAREPIPE_TEMPORAL_UI_URL: 'https://temporal.example.org/', CAREPIPE_CODEC_SERVER_TOKEN: 'x'.repeat(20) }).codecServer;
  t.deepEqual(remote.origins, ['https://temporal.example.org']);
  t.is(remote.token, 'x'.repeat(20));
  t.deepEqual(parseConfig({ CAREPIPE_CODEC_SERVER_ORIGINS: 'http://a:1, https://b' }).codecServer.origins, ['http://a:1', 'https://b']);
  t.throws(() => parseConfig({ CAREPIPE_CODEC_SERVER_ORIGINS: 'http://a/path' }), { instanceOf: ConfigError, message: /CAREPIPE_CODEC_SERVER_ORIGINS/ });
  t.throws(() => parseConfig({ CAREPIPE_CODEC_SERVER_TOKEN: 'short' }), { instanceOf: ConfigError, message: /at least 16 characters/ });
  t.throws(() => parseConfig({ CAREPIPE_CODEC_SERVER_PORT: '70000' }), { instanceOf: ConfigError, message: /CAREPIPE_CODEC_SERVER_PORT/ });
});

test("command-line overrides are read by the variable's own rules, win over the environment, and are named by their flag when refused", (t) => {
  const c = parseConfig({ CAREPIPE_METRICS_PORT: '9000' }, { CAREPIPE_METRICS_PORT: { value: '9464', flag: '--metrics-port' } });
  t.is(c.metrics.port, 9464);
  t.is(parseConfig({ CAREPIPE_METRICS_PORT: '9000' }).metrics.port, 9000);
  const range = t.throws(() => parseConfig({}, { CAREPIPE_WORKER_CURATOR_THREADS: { value: '300', flag: '--curator-threads' } }), { instanceOf: ConfigError });
  t.is(range?.message, '--curator-threads must be between 0 and 256, got 300.');
  const word = t.throws(() => parseConfig({}, { CAREPIPE_WORKER_ACTIVITY_CONCURRENCY: { value: 'many', flag: '--activity-concurrency' } }), {
    instanceOf: ConfigError,
  });
  t.is(word?.message, '--activity-concurrency must be a whole number, got "many".');
  const host = t.throws(() => parseConfig({}, { CAREPIPE_CODEC_SERVER_HOST: { value: 'a b', flag: '--host' } }), { instanceOf: ConfigError });
  t.regex(host?.message ?? '', /^--host must be a host name or IP address, got "a b"/);
});

test('the audit ring comes from CAREPIPE_AUDIT_KEYS or the key file, and a process without the pseudonym key can load it alone', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-audit-keys-'));
  const file = join(dir, 'keys.json');
  writeFileSync(file, newKeyFileContent('dev-1'));
  const fromFile = requireKeys(parseConfig({ CAREPIPE_KEY_FILE: file })).audit!;
  t.is(fromFile.activeId, 'dev-1');
  t.deepEqual(requireAuditKeys(parseConfig({ CAREPIPE_KEY_FILE: file })).keys, fromFile.keys);
  const env = requireAuditKeys(parseConfig({ CAREPIPE_AUDIT_KEYS: `a1:${key()},a2:${key()}`, CAREPIPE_AUDIT_KEY_ID: 'a2' }));
  t.deepEqual([env.activeId, [...env.keys.keys()]], ['a2', ['a1', 'a2']]);
  writeFileSync(file, JSON.stringify({ codec: { active: 'c', keys: { c: key() } }, pseudonym: { active: 'p', keys: { p: key() } } }));
  t.is(requireKeys(parseConfig({ CAREPIPE_KEY_FILE: file })).audit, undefined);
  t.regex(
    t.throws(() => requireAuditKeys(parseConfig({ CAREPIPE_KEY_FILE: file })), { instanceOf: ConfigError }).message,
    /has no audit ring, and CAREPIPE_AUDIT_KEYS is not set/,
  );
});
