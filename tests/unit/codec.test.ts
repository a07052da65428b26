import test from 'ava';
import { METADATA_ENCODING_KEY, defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../core/codec.js';
import type { KeyRing } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

const ring = (active: string, ids: string[]): KeyRing => ({
  activeId: active,
  keys: new Map(ids.map((id, i) => [id, Buffer.alloc(32, i + 1)])),
  source: 'test',
});
const text = new TextDecoder();

test('payloads round-trip through encryption and carry the key id, not the plaintext', async (t) => {
  const codec = new AesGcmPayloadCodec(ring('k1', ['k1']));
  const payload = defaultPayloadConverter.toPayload({ lake: 's3://secret-lake', mrn: 'MRN-0042' });
  const [encoded] = await codec.encode([payload]);
  t.is(text.decode(encoded!.metadata![METADATA_ENCODING_KEY]), ENCRYPTED_ENCODING);
  t.is(text.decode(encoded!.metadata![KEY_ID_METADATA]), 'k1');
  t.false(Buffer.from(encoded!.data!).includes('MRN-0042'));
  t.false(Buffer.from(encoded!.data!).includes('secret-lake'));
  const [decoded] = await codec.decode([encoded!]);
  t.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { lake: 's3://secret-lake', mrn: 'MRN-0042' });
});

test('the same payload encrypts differently each time (fresh IV)', async (t) => {
  const codec = new AesGcmPayloadCodec(ring('k1', ['k1']));
  const payload = defaultPayloadConverter.toPayload('same');
  const [a] = await codec.encode([payload]);
  const [b] = await codec.encode([payload]);
  t.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
});

test('after rotation, old payloads decrypt with the key they name and new ones use the new key', async (t) => {
  const old = new AesGcmPayloadCodec(ring('k1', ['k1']));
  const rotated = new AesGcmPayloadCodec(ring('k2', ['k1', 'k2']));
  const [fromOld] = await old.encode([defaultPayloadConverter.toPayload(41)]);
  const [fromNew] = await rotated.encode([defaultPayloadConverter.toPayload(42)]);
  t.is(text.decode(fromNew!.metadata![KEY_ID_METADATA]), 'k2');
  const decoded = await rotated.decode([fromOld!, fromNew!]);
  t.deepEqual(
    decoded.map((p) => defaultPayloadConverter.fromPayload(p)),
    [41, 42],
  );
});

test('a payload under an unknown key or with tampered bytes is refused', async (t) => {
  const [sealed] = await new AesGcmPayloadCodec(ring('k9', ['k9'])).encode([defaultPayloadConverter.toPayload('x')]);
  const other = new AesGcmPayloadCodec(ring('k1', ['k1']));
  const err = await t.throwsAsync(other.decode([sealed!]), { instanceOf: ConfigError });
  t.is(err?.message, 'A payload is encrypted with key "k9", which is not in test.');
  const own = new AesGcmPayloadCodec(ring('k9', ['k9']));
  const tampered = { ...sealed!, data: Uint8Array.from(sealed!.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
  await t.throwsAsync(own.decode([tampered]), { message: /unable to authenticate data|Unsupported state/ });
});

test('unencrypted payloads pass through decode untouched', async (t) => {
  const codec = new AesGcmPayloadCodec(ring('k1', ['k1']));
  const plain = defaultPayloadConverter.toPayload('plain');
  const [out] = await codec.decode([plain]);
  t.is(out, plain);
});
