import test from 'ava';
import { createProgressView, estimate, progressMode, renderProgress } from '../../cli/progress.js';

test('a bar shows shards done of total, rows, the rate and the time left', (t) => {
  const s = { label: 'features', unit: 'shards', done: 12, total: 32, rows: 4520 };
  t.deepEqual(estimate(s, 0, 4), { rate: 3, secondsLeft: 20 / 3 });
  t.is(renderProgress(s, estimate(s, 0, 4), true), 'features  [#########...............]  12/32 shards  4,520 rows  3.0 shards/s  ~7 s left');
});

test('without a known total the line counts what is done and gives no time left', (t) => {
  const s = { label: 'ingest', unit: 'files', done: 40, rows: 120_000 };
  t.is(renderProgress(s, estimate(s, 10, 2), false), 'ingest    40 files  120,000 rows  15 files/s');
});

test('long waits read in minutes and hours', (t) => {
  const s = { label: 'ingest', unit: 'dates', done: 1, total: 200 };
  t.is(renderProgress(s, { rate: 1 / 60, secondsLeft: 199 * 60 }, false), 'ingest    1/200 dates  0.0 dates/s  ~3.3 h left');
  t.is(renderProgress(s, { secondsLeft: 600 }, false), 'ingest    1/200 dates  ~10 min left');
});

test('bars redraw one line per stage on a terminal; plain lines elsewhere; nothing with --json', (t) => {
  t.is(progressMode(true, { isTTY: true }), 'quiet');
  t.is(progressMode(undefined, { isTTY: true }), 'bar');
  t.is(progressMode(undefined, {}), 'lines');
  let clock = 0;
  const out: string[] = [];
  const bar = createProgressView(
    'bar',
    (s) => out.push(s),
    () => clock,
  );
  bar.update({ label: 'ingest', unit: 'files', done: 0, total: 4 });
  clock = 2000;
  bar.update({ label: 'ingest', unit: 'files', done: 4, total: 4 });
  bar.update({ label: 'features', unit: 'shards', done: 0, total: 8 });
  bar.finish();
  t.deepEqual(out, [
    '\r\x1b[Kingest    [........................]  0/4 files',
    '\r\x1b[Kingest    [########################]  4/4 files  2.0 files/s  ~0 s left',
    '\n',
    '\r\x1b[Kfeatures  [........................]  0/8 shards',
    '\n',
  ]);
  const lines: string[] = [];
  const plain = createProgressView(
    'lines',
    (s) => lines.push(s),
    () => 0,
  );
  plain.update({ label: 'train', unit: 'stages', done: 2 });
  plain.finish();
  t.deepEqual(lines, ['  train     2 stages\n']);
  const quiet: string[] = [];
  createProgressView('quiet', (s) => quiet.push(s)).update({ label: 'x', unit: 'y', done: 1 });
  t.deepEqual(quiet, []);
});
