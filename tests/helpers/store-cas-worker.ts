/**
 * A separate process for the compare-and-swap race in object-store.test.ts: increments the
 * counter object `key` of the lake `lakeUri` `times` times, each time reading the counter and
 * writing counter + 1 with `ifMatch`, starting over when another writer got in first. Prints how
 * many increments it made. If `ifMatch` were not atomic, increments would be lost and the final
 * counter would be less than the sum of what the workers report. The counter is the object's
 * first line; the rest is padding.
 *
 * Usage: node store-cas-worker.js <lakeUri> <key> <times>
 */
import { randomBytes } from 'node:crypto';
import { parseLakeUri } from '../../core/config.js';
import { PreconditionFailedError } from '../../core/errors.js';
import { openStore } from '../../activities/io/open-store.js';
import { testS3Settings } from './services.js';

const [lakeUri, key, timesArg] = process.argv.slice(2);
if (!lakeUri || !key || !timesArg) throw new Error('usage: store-cas-worker.js <lakeUri> <key> <times>');
const lake = parseLakeUri(lakeUri);
const store = openStore(
  lake,
  lake.kind === 's3'
    ? testS3Settings()
    : {
        endpoint: undefined,
        region: 'us-east-1',
        forcePathStyle: false,
        credentials: undefined,
        multipartThresholdBytes: 5 << 20,
        conditionalWrites: 'atomic',
        sse: { mode: 'none' },
        localDevelopment: true,
      },
  { conditionalWrites: 'atomic' },
);

let made = 0;
let lost = 0;
while (made < Number(timesArg)) {
  const info = await store.head(key);
  if (!info) throw new Error(`${key} is missing`);
  const value = Number(
    Buffer.from(await store.get(key))
      .toString('utf8')
      .split('\n')[0],
  );
  try {
    // The padding makes each write take long enough for a non-atomic check to show.
    await store.put(key, Buffer.concat([Buffer.from(`${value + 1}\n`), randomBytes(128 * 1024)]), { ifMatch: info.etag });
    made++;
  } catch (err) {
    if (!(err instanceof PreconditionFailedError)) throw err;
    lost++;
  }
}
store.close();
process.stdout.write(JSON.stringify({ made, lost }));
