import test from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import { Pseudonymizer } from '../../activities/ingest/pseudonymizer.js';

const hmac = (secret: Buffer, domain: string, id: string) => createHmac('sha256', secret).update(`${domain}\0${id}`).digest().subarray(0, 12).toString('hex');

test('record pseudonyms are HMAC-SHA256 of domain and id under the key, for short, 64-byte and long keys and any id', (t) => {
  for (const length of [16, 32, 64, 65, 100]) {
    const secret = randomBytes(length);
    const p = new Pseudonymizer({ activeId: 'k', keys: new Map([['k', secret]]), source: 'test' });
    for (const id of ['LAB-1', '', 'é\u0000🙂', 'x'.repeat(300), String(length)]) {
      t.is(p.labId(id), `l${hmac(secret, 'lab', id)}`, `key ${length} bytes, id ${JSON.stringify(id)}`);
      t.is(p.encounterId(id), `e${hmac(secret, 'encounter', id)}`);
      t.is(p.labId(id), `l${hmac(secret, 'lab', id)}`, 'the same again: the pads are copied, not consumed');
    }
  }
});
