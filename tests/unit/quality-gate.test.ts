/**
 * The data-quality gate's judgement on hand-built manifests and profiles: which check breaks, with
 * which value and limit, and the sentence a person reads (codes and counts, never a value of a row).
 */
import test from 'ava';
import type { DayManifest } from '../../activities/ingest/day-manifests.js';
import { type FeatureProfile, judgeFeatures } from '../../activities/quality/feature-quality.js';
import { judgeIngest } from '../../activities/quality/ingest-quality.js';
import { parseQualityLimits } from '../../cli/quality.js';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_QUALITY_LIMITS, describeBreach, describeBreaches, resolveQualityLimits } from '../../schemas/quality.js';

function day(table: DayManifest['table'], date: string, rowsIn: number, rejectReasons: Record<string, number>, files = 1, quarantined = 0): DayManifest {
  const rejected = Object.values(rejectReasons).reduce((a, b) => a + b, 0);
  return {
    table,
    ingestDate: date,
    rowsIn,
    accepted: rowsIn - rejected,
    corrected: 0,
    rejected,
    rejectReasons,
    files: Array.from({ length: files }, (_, i) => ({
      source: `raw/${table}/ingest_date=${date}/f${i}.parquet`,
      status: i < quarantined ? 'quarantined' : 'ingested',
      rowsIn: 0,
      inputHash: 'h',
    })),
    quarantined: Array.from({ length: quarantined }, (_, i) => `raw/${table}/ingest_date=${date}/f${i}.parquet`),
  };
}

test('a table whose reject rate passes the limit breaks the gate, naming the table, the top reason codes with counts and the limit', (t) => {
  const days = [
    day('encounters', '2025-01-01', 1000, { discharge_before_admission: 150, invalid_payer: 40 }),
    day('encounters', '2025-01-02', 1000, { invalid_payer: 10 }),
    day('lab_results', '2025-01-01', 5000, { unknown_loinc: 20 }),
  ];
  const report = judgeIngest(days, DEFAULT_QUALITY_LIMITS);
  t.false(report.passed);
  const whole = report.breaches.find((b) => b.check === 'reject_rate')!;
  t.is(whole.subject, 'encounters');
  t.is(whole.value, 200 / 2000);
  t.is(whole.limitName, 'maxRejectRate');
  t.deepEqual(whole.reasons, [
    ['discharge_before_admission', 150],
    ['invalid_payer', 50],
  ]);
  const perDay = report.breaches.find((b) => b.check === 'day_reject_rate')!;
  t.is(perDay.date, '2025-01-01');
  t.is(perDay.value, 0.19);
  t.is(report.breaches.length, 2, 'the second day (1%) and the lab table (0.4%) are within limits');
  t.is(describeBreach(whole), 'ingest reject rate of encounters is 10.00%, limit maxRejectRate = 5.00% (discharge_before_admission: 150, invalid_payer: 50)');
  t.is(
    describeBreach(perDay),
    'ingest day reject rate of encounters on 2025-01-01 is 19.00%, limit maxRejectRate = 5.00% (discharge_before_admission: 150, invalid_payer: 40)',
  );
  const labs = report.tables.find((x) => x.table === 'lab_results')!;
  t.deepEqual(labs.reasons, [['unknown_loinc', 20]]);
});

test('small days are judged only as part of their table, and quarantined files against their own limit', (t) => {
  const days = [
    day('patients', '2025-01-01', 20, { invalid_sex: 5 }),
    ...Array.from({ length: 30 }, (_, i) => day('patients', `2025-01-${String(i + 2).padStart(2, '0')}`, 100, {})),
    day('lab_results', '2025-01-01', 1000, {}, 10, 1),
  ];
  const report = judgeIngest(days, DEFAULT_QUALITY_LIMITS);
  t.deepEqual(
    report.breaches.map((b) => [b.check, b.subject, b.value]),
    [['quarantine_rate', 'lab_results', 0.1]],
  );
  t.true(judgeIngest(days, { ...DEFAULT_QUALITY_LIMITS, maxQuarantineRate: 0.1 }).passed, 'a limit is a bound, not a strict one');
});

const profile = (over: Partial<FeatureProfile> = {}): FeatureProfile => ({
  version: 'v-new',
  indexStays: 13_000,
  labelledStays: 12_000,
  labelRate: 0.154,
  nullRates: { age: 0, lab_glucose_last: 0.3, payer: 0.05 },
  ...over,
});
const noIngest = judgeIngest([], DEFAULT_QUALITY_LIMITS);

test('a feature version that lost index stays and half its label rate against its previous version breaks the gate', (t) => {
  const current = profile({ indexStays: 5_326, labelledStays: 5_000, labelRate: 0.073 });
  const report = judgeFeatures(current, profile({ version: 'v-old' }), noIngest, DEFAULT_QUALITY_LIMITS);
  t.false(report.passed);
  t.deepEqual(
    report.breaches.map((b) => b.check),
    ['index_stay_drop', 'label_rate_change'],
  );
  t.is(report.baselineVersion, 'v-old');
  t.true(Math.abs(report.breaches[0]!.value - (13_000 - 5_326) / 13_000) < 1e-12);
  t.regex(describeBreaches(report), /features label rate change is 8\.10%, limit maxLabelRateChange = 5\.00%/);
});

test('a feature whose null rate moves past its limit is named; a version with no baseline is judged on absolute bounds only', (t) => {
  const moved = judgeFeatures(
    profile({ nullRates: { age: 0, lab_glucose_last: 0.9, payer: 0.05 } }),
    profile({ version: 'v-old' }),
    noIngest,
    DEFAULT_QUALITY_LIMITS,
  );
  t.deepEqual(
    moved.breaches.map((b) => [b.check, b.subject]),
    [['null_rate_change', 'lab_glucose_last']],
  );
  t.is(moved.nullRateChanges[0]!.feature, 'lab_glucose_last');
  const first = judgeFeatures(profile({ labelledStays: 10, labelRate: 0.9 }), null, noIngest, DEFAULT_QUALITY_LIMITS);
  t.deepEqual(
    first.breaches.map((b) => [b.check, b.limitName]),
    [
      ['labelled_stays', 'minLabelledStays'],
      ['label_rate', 'maxLabelRate'],
    ],
  );
  t.is(first.baselineVersion, null);
  t.true(judgeFeatures(profile(), profile({ version: 'v-old' }), noIngest, DEFAULT_QUALITY_LIMITS).passed);
});

test('the curated days behind a version are judged lake-wide on their reject and quarantine rates', (t) => {
  const curated = judgeIngest([day('encounters', '2025-01-01', 1000, { invalid_payer: 100 })], DEFAULT_QUALITY_LIMITS);
  const report = judgeFeatures(profile(), null, curated, DEFAULT_QUALITY_LIMITS);
  t.deepEqual(
    report.breaches.map((b) => [b.stage, b.check, b.subject]),
    [['ingest', 'reject_rate', 'encounters']],
  );
  t.is(report.curated[0]!.rejected, 100);
});

test('limits are overridden by name; unknown names and negative values are refused with a sentence', (t) => {
  t.deepEqual(parseQualityLimits(['maxRejectRate=0.2', 'minLabelledStays=10']), { maxRejectRate: 0.2, minLabelledStays: 10 });
  t.throws(() => parseQualityLimits(['maxRejection=0.2']), { instanceOf: ConfigError, message: /unknown limit "maxRejection"; known: maxRejectRate/ });
  t.throws(() => parseQualityLimits(['maxRejectRate=-1']), { instanceOf: ConfigError });
  t.is(resolveQualityLimits({ maxRejectRate: -1 }).error, 'quality limit maxRejectRate must be a number of at least 0, got -1');
  t.is(resolveQualityLimits({ maxRejectRate: 0.3 }).limits.maxRejectRate, 0.3);
});
