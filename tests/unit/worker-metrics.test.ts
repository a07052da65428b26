import test from 'ava';
import { rowsOf } from '../../workers/metrics.js';

test('rows processed count the work an activity did now, never skipped work or bookkeeping sums', (t) => {
  t.is(rowsOf('ingestFile', { status: 'ingested', rowsIn: 1200 }), 1200);
  t.is(rowsOf('ingestFile', { status: 'quarantined', rowsIn: 0 }), 0);
  t.is(rowsOf('ingestFile', { status: 'skipped', rowsIn: 1200 }), 0, 'a file ingested before is not read again');
  t.is(
    rowsOf('ingestFiles', [
      { status: 'ingested', rowsIn: 1200 },
      { status: 'skipped', rowsIn: 500 },
      { status: 'ingested', rowsIn: 30 },
    ]),
    1230,
    'a batch counts its files curated now',
  );
  t.is(rowsOf('buildFeatureShard', { skipped: false, rows: 40 }), 40);
  t.is(rowsOf('buildFeatureShard', { skipped: true, reusedFrom: 'v-1', rows: 40 }), 40, 'a reused shard is copied now');
  t.is(rowsOf('buildFeatureShard', { skipped: true, rows: 40 }), 0, 'a shard already complete is not');
  t.is(rowsOf('fitFeatureShard', { bucket: 3, rows: 31 }), 31);
  t.is(rowsOf('writeFeatureManifest', { rows: 4000 }), 0);
  t.is(rowsOf('ingestFile', undefined), 0);
  t.is(rowsOf('ingestFile', { status: 'ingested', rowsIn: 'many' }), 0);
});
