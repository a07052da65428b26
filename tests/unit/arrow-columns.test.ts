import test from 'ava';
import { Table } from 'apache-arrow';
import { NULL_DAY, date32Vector, float64Vector, stringValues, timestampMsVector, utf8Vector } from '../../activities/io/arrow-columns.js';
import { readParquet, timestampColumnToMillis, writeParquet } from '../../activities/io/parquet.js';

test('utf8Vector keeps nulls, empty strings and multi-byte text, and survives a Parquet round trip', (t) => {
  const values = ['a', null, 'héllo', '', '日本語', null, 'x'.repeat(5000), '🩺'];
  const v = utf8Vector(values);
  t.is(v.length, values.length);
  t.is(v.nullCount, 2);
  t.deepEqual(stringValues(v, v.length), values);
  const back = readParquet(writeParquet(new Table({ s: v })));
  t.deepEqual(stringValues(back.getChild('s'), values.length), values);
});

test('utf8Vector of an empty or all-null column is valid', (t) => {
  t.deepEqual(stringValues(utf8Vector([]), 0), []);
  const nulls = utf8Vector([null, null]);
  t.is(nulls.nullCount, 2);
  t.deepEqual(stringValues(readParquet(writeParquet(new Table({ s: nulls }))).getChild('s'), 2), [null, null]);
});

test('typed-array builders mark NaN and NULL_DAY as null and keep every other value exactly', (t) => {
  const f = float64Vector(Float64Array.from([1.5, Number.NaN, -0.25]));
  t.deepEqual([f.get(0), f.get(1), f.get(2)], [1.5, null, -0.25]);
  const ms = Float64Array.from([1_700_000_000_123, Number.NaN, -86_400_000]);
  const ts = timestampMsVector(ms);
  t.is(ts.nullCount, 1);
  const back = timestampColumnToMillis(readParquet(writeParquet(new Table({ ts }))).getChild('ts')!);
  t.deepEqual(Array.from(back), Array.from(ms));
  const d = date32Vector(Int32Array.from([19_000, NULL_DAY, -1]));
  t.is(d.nullCount, 1);
  t.deepEqual(Array.from(timestampColumnToMillis(d)), [19_000 * 86_400_000, Number.NaN, -86_400_000]);
});
