import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { metricsUrl } from '../../workers/runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'carepipe-tls-'));
const pem = (name: string, kind: string) => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${kind}-----\nAAAA\n-----END ${kind}-----\n`);
  return path;
};
const cert = pem('client.pem', 'CERTIFICATE');
const key = pem('client.key', 'PRIVATE KEY');
const ca = pem('ca.pem', 'CERTIFICATE');

test('metrics are off by default and served on the configured host and port when asked', (t) => {
  t.deepEqual(parseConfig({}).metrics, { port: 0, host: '127.0.0.1' });
  t.is(metricsUrl(parseConfig({}).metrics), undefined);
  const on = parseConfig({ CAREPIPE_METRICS_PORT: '9464', CAREPIPE_METRICS_HOST: '0.0.0.0' }).metrics;
  t.is(metricsUrl(on), 'http://0.0.0.0:9464/metrics');
  t.throws(() => parseConfig({ CAREPIPE_METRICS_PORT: '70000' }), {
    instanceOf: ConfigError,
    message: 'CAREPIPE_METRICS_PORT must be between 0 and 65535, got 70000.',
  });
});

test('Temporal TLS is off without settings, mTLS with a client certificate, server TLS alone with CAREPIPE_TEMPORAL_TLS', (t) => {
  t.is(parseConfig({}).temporal.tls, undefined);
  const mtls = parseConfig({
    CAREPIPE_TEMPORAL_TLS_CERT: cert,
    CAREPIPE_TEMPORAL_TLS_KEY: key,
    CAREPIPE_TEMPORAL_TLS_CA: ca,
    CAREPIPE_TEMPORAL_TLS_SERVER_NAME: 'frontend',
  }).temporal.tls!;
  t.true(mtls.clientCertPair!.crt.toString().startsWith('-----BEGIN CERTIFICATE-----'));
  t.true(mtls.clientCertPair!.key.toString().startsWith('-----BEGIN PRIVATE KEY-----'));
  t.truthy(mtls.serverRootCACertificate);
  t.is(mtls.serverNameOverride, 'frontend');
  t.deepEqual(parseConfig({ CAREPIPE_TEMPORAL_TLS: 'true' }).temporal.tls, {});
});

test('bad TLS settings stop the process with a sentence that names the variable', (t) => {
  t.throws(() => parseConfig({ CAREPIPE_TEMPORAL_TLS_CERT: cert }), {
    instanceOf: ConfigError,
    message: 'CAREPIPE_TEMPORAL_TLS_CERT and CAREPIPE_TEMPORAL_TLS_KEY must be set together (the client certificate and its key).',
  });
  t.throws(() => parseConfig({ CAREPIPE_TEMPORAL_TLS_CA: join(dir, 'missing.pem') }), {
    instanceOf: ConfigError,
    message: `CAREPIPE_TEMPORAL_TLS_CA names ${join(dir, 'missing.pem')}, which cannot be read.`,
  });
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  t.throws(() => parseConfig({ CAREPIPE_TEMPORAL_TLS_CA: notPem }), {
    instanceOf: ConfigError,
    message: `CAREPIPE_TEMPORAL_TLS_CA names ${notPem}, which is not a PEM file.`,
  });
  t.throws(() => parseConfig({ CAREPIPE_TEMPORAL_TLS: 'false', CAREPIPE_TEMPORAL_TLS_CA: ca }), {
    instanceOf: ConfigError,
    message: /^CAREPIPE_TEMPORAL_TLS is false but/,
  });
});
