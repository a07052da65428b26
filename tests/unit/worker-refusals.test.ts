/**
 * What workers refuse, below Temporal: the workers' codec turns a payload in clear into the marker
 * their interceptors fail on (and clients still read it), and the allow-list of lakes admits a
 * listed lake and the prefixes under it, nothing else. (tests/workflows/identity.test.ts runs both
 * through real workers.)
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { createDeps } from '../../cli/deps.js';
import { AesGcmPayloadCodec } from '../../core/codec.js';
import { type KeyRing, parseConfig } from '../../core/config.js';
import { LakeNotAllowedError } from '../../core/errors.js';
import { checkLakeAllowed, isLakeAllowed } from '../../core/identity/lake-allow.js';
import { createLogger } from '../../core/log.js';
import { isUnencryptedMarker, unencryptedRefusal } from '../../core/unencrypted.js';

const ring: KeyRing = { activeId: 'k', keys: new Map([['k', createHash('sha256').update('refusals').digest()]]), source: 'test' };

test("the workers' codec hands on a marker for a payload in clear, decrypts its own, and a client's codec still passes clear ones through", async (t) => {
  const worker = new AesGcmPayloadCodec(ring, { refuseUnencrypted: true });
  const clear = defaultPayloadConverter.toPayload({ lake: 's3://elsewhere' });
  const [marked] = await worker.decode([clear]);
  const value = defaultPayloadConverter.fromPayload(marked!);
  t.true(isUnencryptedMarker(value));
  t.deepEqual(value, { carepipeRefusedPayload: 'unencrypted', encoding: 'json/plain' });
  t.false(JSON.stringify(value).includes('elsewhere'), 'the marker carries nothing of the payload');
  const [roundTrip] = await worker.decode(await worker.encode([clear]));
  t.deepEqual(defaultPayloadConverter.fromPayload(roundTrip!), { lake: 's3://elsewhere' });
  const [passed] = await new AesGcmPayloadCodec(ring).decode([clear]);
  t.deepEqual(passed, clear);
});

test('the refusal names the argument and its encoding, and only markers are refused', (t) => {
  const marker = { carepipeRefusedPayload: 'unencrypted', encoding: 'json/plain' };
  t.is(
    unencryptedRefusal([{ lake: 'x' }, marker], 'the workflow input'),
    'the workflow input argument 1 arrived unencrypted (encoding json/plain): workers accept only payloads encrypted by the carepipe codec; start runs with carepipe or a client that uses its data converter',
  );
  t.is(unencryptedRefusal([{ lake: 'x' }, null, 3], 'x'), undefined);
  t.false(isUnencryptedMarker({ carepipeRefusedPayload: 'other' }));
});

test('a lake on the allow-list and the prefixes under it are admitted; any other, a sibling prefix included, is refused', (t) => {
  const allow = ['s3://lake-a/prod', 'file:///data/lake'];
  t.true(isLakeAllowed('s3://lake-a/prod', allow));
  t.true(isLakeAllowed('s3://lake-a/prod/', allow));
  t.true(isLakeAllowed('s3://lake-a/prod/eu', allow));
  t.true(isLakeAllowed('file:///data/lake/x', allow));
  t.false(isLakeAllowed('s3://lake-a/production', allow));
  t.false(isLakeAllowed('s3://lake-a', allow));
  t.false(isLakeAllowed('s3://lake-b/prod', allow));
  t.false(isLakeAllowed('file:///data/lake-other', allow));
  t.false(isLakeAllowed('hdfs://lake-a/prod', allow));
  const err = t.throws(() => checkLakeAllowed('s3://lake-b/prod', allow), { instanceOf: LakeNotAllowedError });
  t.is(err?.message, "lake s3://lake-b/prod is not on this worker's allow-list (CAREPIPE_LAKE_ALLOW: s3://lake-a/prod, file:///data/lake)");
  t.false(err?.retryable);
});

test("the workers' stores open only allowed lakes: by default the configured lake alone", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-allow-'));
  const deps = createDeps(parseConfig({ CAREPIPE_LAKE: `file://${dir}` }), { codec: ring, pseudonym: ring }, createLogger('error'));
  t.is(deps.lake(`file://${dir}`).uri, `file://${dir}`);
  t.throws(() => deps.lake(`file://${dir}-other`), { instanceOf: LakeNotAllowedError, message: new RegExp(`lake file://${dir}-other is not on`) });
  const wider = createDeps(
    parseConfig({ CAREPIPE_LAKE: `file://${dir}`, CAREPIPE_LAKE_ALLOW: `file://${dir},file://${dir}-other` }),
    { codec: ring, pseudonym: ring },
    createLogger('error'),
  );
  t.is(wider.lake(`file://${dir}-other`).uri, `file://${dir}-other`);
  deps.close();
  wider.close();
});
