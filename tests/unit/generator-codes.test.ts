import test from 'ava';
import { InvalidInputError } from '../../core/errors.js';
import { CHARLSON_CATEGORIES, charlsonCategoriesOf, charlsonIndex, readmissionRisk, resolveOptions } from '../../data-lake/generator/index.js';
import { CHRONIC_CONDITIONS, FLARE_REASON, LAB_DIAGNOSES, asWrittenBy } from '../../data-lake/generator/clinical-codes.js';
import { LABS, abnormalFlag } from '../../data-lake/generator/labs.js';
import { Rng } from '../../data-lake/generator/prng.js';
import { probabilitySeenBefore, readmissionAdmitMs } from '../../data-lake/generator/risk.js';

const DAY = 86_400_000;

test('every chronic-condition code falls in its own Charlson category and no other, with or without the dot', (t) => {
  t.deepEqual(CHRONIC_CONDITIONS.map((c) => c.category).sort(), [...CHARLSON_CATEGORIES].sort());
  for (const condition of CHRONIC_CONDITIONS) {
    for (const code of condition.codes) {
      t.deepEqual(charlsonCategoriesOf(code), [condition.category], code);
      t.deepEqual(charlsonCategoriesOf(code.replace('.', '')), [condition.category], code);
    }
  }
  for (const code of Object.values(LAB_DIAGNOSES)) t.deepEqual(charlsonCategoriesOf(code), [], code);
  t.deepEqual(charlsonCategoriesOf(FLARE_REASON.congestive_heart_failure!), ['congestive_heart_failure']);
});

test('the Charlson index applies the original weights and Quan hierarchy', (t) => {
  t.is(charlsonIndex([]), 0);
  t.is(charlsonIndex(['I10', 'J18.9']), 0);
  t.is(charlsonIndex(['E11.9']), 1);
  t.is(charlsonIndex(['E11.9', 'E1122']), 2, 'complicated diabetes supersedes uncomplicated');
  t.is(charlsonIndex(['K70.30', 'K72.90']), 3, 'severe liver disease supersedes mild');
  t.is(charlsonIndex(['C34.90', 'C78.7']), 6, 'a metastatic tumour supersedes the primary');
  t.is(charlsonIndex(['I21.4', 'I50.9', 'N18.4', 'B20', 'G81.91']), 1 + 1 + 2 + 6 + 2);
  t.is(charlsonIndex(['i50.9 ']), 1, 'case and spaces do not matter');
});

test('facilities that drop the dot write the same code without it', (t) => {
  t.is(asWrittenBy('FAC03', 'E11.9'), 'E119');
  t.is(asWrittenBy('FAC01', 'E11.9'), 'E11.9');
});

test('abnormal flags follow the reference range, the critical limits and the sex-specific range', (t) => {
  t.is(abnormalFlag(LABS.glucose, 85, 'F'), 'N');
  t.is(abnormalFlag(LABS.glucose, 120, 'F'), 'H');
  t.is(abnormalFlag(LABS.glucose, 45, 'M'), 'LL');
  t.is(abnormalFlag(LABS.glucose, 450, 'M'), 'HH');
  t.is(abnormalFlag(LABS.hemoglobin, 12.8, 'F'), 'N');
  t.is(abnormalFlag(LABS.hemoglobin, 12.8, 'M'), 'L');
  t.is(abnormalFlag(LABS.sodium, 118, 'U'), 'LL');
  t.is(Object.keys(LABS).length, 22);
  t.is(new Set(Object.values(LABS).map((s) => s.loinc)).size, 22);
});

test('the readmission risk is the documented logistic function of the discharge facts', (t) => {
  const base = {
    age: 65,
    losDays: 0,
    priorInpatient365: 0,
    charlson: 0,
    hemoglobinMin: NaN,
    creatinineMax: NaN,
    sodiumMin: NaN,
    albuminMin: NaN,
    disposition: 'home' as const,
    payer: 'other' as const,
  };
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  t.is(readmissionRisk(base), Math.round(sigmoid(-3.3) * 1e6) / 1e6);
  const sick = {
    ...base,
    age: 80,
    losDays: 6,
    priorInpatient365: 2,
    charlson: 4,
    hemoglobinMin: 9,
    creatinineMax: 2.3,
    sodiumMin: 131,
    albuminMin: 2.9,
    disposition: 'snf' as const,
    payer: 'medicaid' as const,
  };
  const logit = -3.3 + 0.015 * 15 + 0.65 * Math.log(3) + 0.14 * 4 + 0.038 * 6 + 0.23 * 2 + 0.36 * 1 + 0.095 * 4 + 0.55 * 0.5 + 0.36 + 0.28;
  t.true(Math.abs(readmissionRisk(sick) - sigmoid(logit)) < 1e-6);
  t.true(readmissionRisk({ ...base, age: 103 }) === readmissionRisk({ ...base, age: 90 }), 'ages over 89 count as 90');
});

test('the chance to see a readmission before the cutoff runs from 0 to 1 over the 30 days after discharge', (t) => {
  const discharge = Date.UTC(2025, 0, 1, 12);
  t.is(probabilitySeenBefore(discharge, discharge), 0);
  t.is(probabilitySeenBefore(discharge, discharge + 30 * DAY), 1);
  const half = probabilitySeenBefore(discharge, discharge + 7 * DAY);
  t.true(half > 0.4 && half < 0.6, String(half));
  t.is(readmissionAdmitMs(discharge, 0, 0), discharge + 3_600_000);
  t.true(readmissionAdmitMs(discharge, 29, 0.999999999) <= discharge + 30 * DAY);
});

test('the PRNG is deterministic per seed and path and its helpers have the right moments', (t) => {
  const a = Rng.derive(7, 1, 2);
  const b = Rng.derive(7, 1, 2);
  const c = Rng.derive(7, 2, 1);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  t.deepEqual(
    Array.from({ length: 5 }, () => b.nextUint32()),
    xs,
  );
  t.notDeepEqual(
    Array.from({ length: 5 }, () => c.nextUint32()),
    xs,
  );
  const rng = new Rng(42);
  const n = 20000;
  const mean = (f: () => number) => Array.from({ length: n }, f).reduce((s, v) => s + v, 0) / n;
  t.true(Math.abs(mean(() => rng.next()) - 0.5) < 0.01);
  t.true(Math.abs(mean(() => rng.normal(3, 2)) - 3) < 0.05);
  t.true(Math.abs(mean(() => rng.poisson(4)) - 4) < 0.06);
  t.true(Math.abs(mean(() => rng.exponential(2)) - 2) < 0.06);
  t.true(Math.abs(mean(() => rng.weighted([1, 3])) - 0.75) < 0.01);
  const ints = new Set(Array.from({ length: 1000 }, () => rng.int(1, 6)));
  t.deepEqual([...ints].sort(), [1, 2, 3, 4, 5, 6]);
});

test('options are validated with a sentence naming the option', (t) => {
  t.throws(() => resolveOptions({ patients: 0 }), { instanceOf: InvalidInputError, message: 'generator: patients must be an integer of at least 1' });
  t.throws(() => resolveOptions({ startDate: '2025-02-30' }), { instanceOf: InvalidInputError, message: /startDate/ });
  t.throws(() => resolveOptions({ messiness: { duplicateRate: 2 } }), { instanceOf: InvalidInputError, message: /messiness.duplicateRate/ });
  t.throws(() => resolveOptions({ seed: -1 }), { instanceOf: InvalidInputError, message: /seed/ });
  t.throws(() => resolveOptions({ eveningRate: 1.5 }), { instanceOf: InvalidInputError, message: 'generator: eveningRate must be a number from 0 to 1' });
  t.throws(() => resolveOptions({ sentAtAdmissionRate: Number.NaN }), { instanceOf: InvalidInputError, message: /sentAtAdmissionRate/ });
  const resolved = resolveOptions({ patients: 10, messiness: 'none' });
  t.is(resolved.sentAtAdmissionRate, 0);
  t.is(resolved.eveningRate, 0);
  t.is(resolved.messiness.alternateUnitRate, 0);
  t.is(resolved.days, 30);
  t.true(resolveOptions({}).messiness.alternateUnitRate > 0);
});
