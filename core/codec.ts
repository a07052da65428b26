/**
 * Encrypts every Temporal payload with AES-256-GCM before it leaves the process, so the server's
 * history (and anyone reading it) sees ciphertext only. The key id travels in the payload metadata,
 * so keys can be rotated: new payloads use the active key, old ones decrypt with the key they name.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ConfigError } from './errors.js';
import type { KeyRing } from './config.js';
import { UNENCRYPTED_MARKER_KEY } from './unencrypted.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// @temporalio/proto is CommonJS: its namespace comes through the default export under ESM.
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface CodecOptions {
  /**
   * Workers: a payload that is not encrypted is not passed through but replaced by a marker
   * (core/unencrypted.ts) that the workers' interceptors refuse. Clients keep passing them through,
   * so histories written before encryption stay readable.
   */
  refuseUnencrypted?: boolean;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(
    private readonly ring: KeyRing,
    private readonly options: CodecOptions = {},
  ) {
    if (!ring.keys.has(ring.activeId)) throw new ConfigError(`The active codec key id is not among the keys from ${ring.source}.`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.ring.keys.get(this.ring.activeId)!;
    return payloads.map((payload) => ({
      metadata: {
        [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: encoder.encode(this.ring.activeId),
      },
      data: encrypt(PayloadMessage.encode(payload).finish(), key),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return this.options.refuseUnencrypted ? refusedMarker(encoding) : payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
      if (!keyIdBytes) throw new ConfigError('An encrypted payload carries no key id.');
      const keyId = decoder.decode(keyIdBytes);
      const key = this.ring.keys.get(keyId);
      if (!key) throw new ConfigError(`A payload is encrypted with key "${keyId}", which is not in ${this.ring.source}.`);
      if (!payload.data) throw new ConfigError('An encrypted payload has no data.');
      return PayloadMessage.decode(decrypt(payload.data, key));
    });
  }
}

function refusedMarker(encoding: Uint8Array | null | undefined): Payload {
  const marker = { [UNENCRYPTED_MARKER_KEY]: 'unencrypted', encoding: encoding ? decoder.decode(encoding).slice(0, 64) : 'none' };
  return { metadata: { [METADATA_ENCODING_KEY]: encoder.encode('json/plain') }, data: encoder.encode(JSON.stringify(marker)) };
}

function encrypt(plain: Uint8Array, key: Buffer): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function decrypt(sealed: Uint8Array, key: Buffer): Uint8Array {
  const buf = Buffer.from(sealed);
  const iv = buf.subarray(0, IV_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const decipher = createDecipheriv(CIPHER, key, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(buf.subarray(IV_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
}

/** The module the worker loads into the workflow sandbox for failures (see failure-converter.ts). */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.js', import.meta.url));

/**
 * The data converter shared by clients and workers. Failure messages and stack traces are moved
 * into an encoded payload (encodeCommonAttributes), so they are encrypted too. The failure
 * converter is loaded by path, as the worker must load it into the workflow sandbox.
 */
export function dataConverter(ring: KeyRing, options: CodecOptions = {}): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(ring, options)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
