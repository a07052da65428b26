/**
 * The vocabularies the feature build reads: ICD-10-CM chapters by range, Quan's Charlson mapping
 * as bit masks (shared with the generator), and the lab catalogue against the generator's labs.
 */
import test from 'ava';
import { CHARLSON_CATEGORIES, charlsonCategoriesOf, charlsonIndex, charlsonMask, charlsonScore } from '../../activities/features/charlson.js';
import { ICD10_CHAPTERS, icd10Chapter } from '../../activities/features/icd10-chapters.js';
import { FEATURE_LABS } from '../../activities/features/schema.js';
import { charlsonIndex as generatorCharlsonIndex, LABS } from '../../data-lake/generator/index.js';

test('primary diagnoses map to their ICD-10-CM chapter by range, not by first letter', (t) => {
  const cases: [string | null, string | null][] = [
    ['I21.4', 'circulatory'],
    ['I509', 'circulatory'],
    ['J18.9', 'respiratory'],
    ['A41.9', 'infectious'],
    ['B20', 'infectious'],
    ['C34.90', 'neoplasms'],
    ['C4A.9', 'neoplasms'],
    ['D49.9', 'neoplasms'],
    ['D50.0', 'blood_immune'],
    ['D64.9', 'blood_immune'],
    ['E11.22', 'endocrine_metabolic'],
    ['F03.90', 'mental_behavioural'],
    ['G45.9', 'nervous'],
    ['H25.9', 'eye'],
    ['H60.00', 'ear'],
    ['K92.2', 'digestive'],
    ['L03.115', 'skin'],
    ['M62.82', 'musculoskeletal'],
    ['N17.9', 'genitourinary'],
    ['O9A.211', 'pregnancy'],
    ['P29.0', 'perinatal'],
    ['Q21.0', 'congenital'],
    ['R55', 'symptoms_findings'],
    ['S72.001A', 'injury_poisoning'],
    ['T78.40XA', 'injury_poisoning'],
    ['U07.1', 'special_purposes'],
    ['V43.52XA', 'external_causes'],
    ['Y92.009', 'external_causes'],
    ['Z51.11', 'health_factors'],
    ['H96', null],
    ['K96', null],
    ['250.00', null],
    ['', null],
    [null, null],
  ];
  for (const [code, chapter] of cases) t.is(icd10Chapter(code), chapter, String(code));
  t.is(ICD10_CHAPTERS.length, 22);
});

test('Charlson masks combine by OR and score with the hierarchy and the original weights', (t) => {
  t.is(charlsonMask('I10'), 0);
  t.is(charlsonScore(charlsonMask('E11.9') | charlsonMask('E1122')), 2, 'complicated diabetes supersedes uncomplicated');
  t.is(charlsonScore(charlsonMask('C34.90') | charlsonMask('C78.7')), 6, 'metastatic supersedes any malignancy');
  t.is(charlsonScore(charlsonMask('K70.30') | charlsonMask('K72.90')), 3, 'severe liver disease supersedes mild');
  t.is(charlsonScore(charlsonMask('I21.4') | charlsonMask('I50.9') | charlsonMask('B20') | charlsonMask('N18.6')), 1 + 1 + 6 + 2);
  let all = 0;
  for (let i = 0; i < CHARLSON_CATEGORIES.length; i++) all |= 1 << i;
  t.is(charlsonScore(all), 29, 'every category, after the three exclusions');
  t.deepEqual(charlsonCategoriesOf('I25.2'), ['myocardial_infarction']);
});

test('the generator scores stays with the same mapping it re-exports', (t) => {
  for (const codes of [['I50.9', 'E11.22'], ['C78.7', 'C34.90', 'B20'], ['I10'], []]) t.is(generatorCharlsonIndex(codes), charlsonIndex(codes));
});

test("the lab catalogue of the features is the generator's, with the same LOINC codes and canonical units", (t) => {
  const generator = Object.entries(LABS).map(([name, spec]) => ({ name, loinc: spec.loinc, unit: spec.unit }));
  t.deepEqual(
    FEATURE_LABS.map((l) => ({ ...l })),
    generator,
  );
  t.is(new Set(FEATURE_LABS.map((l) => l.loinc)).size, FEATURE_LABS.length);
});
