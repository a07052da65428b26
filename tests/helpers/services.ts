/**
 * Where the integration tests find the real services. `npm test` (tests/run-tests.ts) starts a
 * Temporal dev server and versitygw on ports of its own and passes them here by environment.
 * A test that needs a service fails loudly when it is missing: no test is silently skipped.
 */
import { LOCAL_S3_CREDENTIALS, type S3Settings } from '../../core/config.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through \`npm test\`, which starts the services.`);
  return value;
}

export function testS3Settings(): S3Settings {
  return {
    endpoint: required('CAREPIPE_TEST_S3_ENDPOINT'),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
    multipartThresholdBytes: 5 * 1024 * 1024,
    conditionalWrites: 'per-request',
    sse: { mode: 'AES256' },
    // versitygw accepts SSE but does not confirm it: the tests' explicit local-development exception.
    localDevelopment: true,
  };
}

export function testTemporalAddress(): string {
  return required('CAREPIPE_TEST_TEMPORAL_ADDRESS');
}

/** A bucket name unique to one test file and title: lowercase, 3-63 chars. */
export function uniqueBucket(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return `t-${slug}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 63).replace(/-$/, '0');
}
