/**
 * Who a patient is: demographics, identifiers, chronic conditions with the code each is charted
 * under, usual lab values, payer and home facility. Drawn once, from the patient's clinical
 * stream, at the start of simulated time.
 */
import type { Payer, Sex } from '../../schemas/raw.js';
import { Calendar } from './calendar.js';
import { CHARLSON_WEIGHTS, type CharlsonCategory } from './charlson.js';
import { CHRONIC_CONDITIONS, COMMON_SECONDARY, FACILITIES } from './clinical-codes.js';
import type { LabBaseline } from './labs.js';
import { drawPerson, medicalRecordNumber, type Person } from './people.js';
import type { Rng } from './prng.js';
import { DAY_MS } from './risk.js';

export interface PatientState {
  index: number;
  id: string;
  /** The MRN's digits, reused in encounter and lab ids. */
  digits: string;
  sex: Sex;
  birthDay: number;
  /** Age in years at the start of simulated time (fractional). */
  startAge: number;
  race: string | null;
  ethnicity: string | null;
  person: Person;
  payer: Payer;
  facility: string;
  conditions: ReadonlySet<CharlsonCategory>;
  /** One ICD-10-CM code per chronic condition, as charted on every stay. */
  chronicCodes: readonly string[];
  secondaryCodes: readonly string[];
  /** Charlson points of the chronic conditions (hierarchy applied). */
  burden: number;
  baseline: LabBaseline;
}

const RACES = ['white', 'black', 'asian', 'other', null] as const;
const RACE_WEIGHTS = [0.62, 0.14, 0.06, 0.12, 0.06];
const ETHNICITIES = ['hispanic', 'nonhispanic', null] as const;
const ETHNICITY_WEIGHTS = [0.16, 0.76, 0.08];
const PAYERS_65_PLUS: readonly Payer[] = ['medicare', 'medicaid', 'commercial', 'other'];
const PAYER_WEIGHTS_65_PLUS = [0.86, 0.05, 0.05, 0.04];
const PAYERS_UNDER_65: readonly Payer[] = ['commercial', 'medicaid', 'self_pay', 'other', 'medicare'];
const PAYER_WEIGHTS_UNDER_65 = [0.55, 0.25, 0.1, 0.05, 0.05];

export function drawPatient(rng: Rng, seed: number, index: number, calendar: Calendar): PatientState {
  const id = medicalRecordNumber(seed, index);
  const u = rng.next();
  const sex: Sex = u < 0.005 ? 'U' : u < 0.53 ? 'F' : 'M';
  // Adults; a younger uniform part and an older bell: about 2% are over 90.
  const startAge = rng.bernoulli(0.4) ? rng.uniform(18, 65) : Math.min(103, Math.max(45, rng.normal(74, 9)));
  const birthDay = Calendar.epochDay(calendar.clinicalStartMs - startAge * 365.25 * DAY_MS);
  const old = startAge >= 65;
  const payer = old ? PAYERS_65_PLUS[rng.weighted(PAYER_WEIGHTS_65_PLUS)]! : PAYERS_UNDER_65[rng.weighted(PAYER_WEIGHTS_UNDER_65)]!;

  const conditions = new Set<CharlsonCategory>();
  const chronicCodes: string[] = [];
  for (const c of CHRONIC_CONDITIONS) {
    const exclusive =
      (c.category === 'diabetes_complicated' && conditions.has('diabetes')) ||
      (c.category === 'severe_liver' && conditions.has('mild_liver')) ||
      (c.category === 'metastatic_tumor' && !conditions.has('malignancy'));
    const p = Math.min(0.9, c.prevalence * Math.exp(c.ageSlope * (startAge - 65)));
    if (!rng.bernoulli(p) || exclusive) continue;
    conditions.add(c.category);
    chronicCodes.push(rng.pick(c.codes));
  }
  let burden = 0;
  for (const c of conditions) burden += CHARLSON_WEIGHTS[c];
  if (conditions.has('metastatic_tumor')) burden -= CHARLSON_WEIGHTS.malignancy;
  const secondaryCodes = COMMON_SECONDARY.filter(([, prevalence]) => rng.bernoulli(prevalence)).map(([code]) => code);

  return {
    index,
    id,
    digits: id.slice(3),
    sex,
    birthDay,
    startAge,
    race: RACES[rng.weighted(RACE_WEIGHTS)]!,
    ethnicity: ETHNICITIES[rng.weighted(ETHNICITY_WEIGHTS)]!,
    person: drawPerson(rng, sex),
    payer,
    facility: rng.pick(FACILITIES),
    conditions,
    chronicCodes,
    secondaryCodes,
    burden,
    baseline: drawBaseline(rng, sex, startAge, conditions),
  };
}

function drawBaseline(rng: Rng, sex: Sex, age: number, has: ReadonlySet<CharlsonCategory>): LabBaseline {
  const female = sex === 'F';
  const diabetic = has.has('diabetes') || has.has('diabetes_complicated');
  const liver = has.has('severe_liver') ? 1 : has.has('mild_liver') ? 0.4 : 0;
  const cancer = has.has('metastatic_tumor') ? 1.5 : has.has('malignancy') ? 1 : 0;
  const renal = has.has('renal');
  return {
    sex,
    hemoglobin: rng.normal(female ? 13.3 : 14.9, 1) - (renal ? 1.6 : 0) - 1.1 * cancer - 1.2 * liver,
    creatinine: (female ? 0.75 : 0.95) * (renal ? rng.uniform(1.8, 4.5) : rng.logNormal(1, 0.12)) * (1 + 0.004 * Math.max(0, age - 50)),
    sodium: rng.normal(139.5, 1.5) - (has.has('congestive_heart_failure') ? 1.5 : 0) - 2 * liver,
    albumin: rng.normal(4.1, 0.25) - 0.006 * Math.max(0, age - 60) - 0.6 * liver - 0.35 * cancer - (renal ? 0.2 : 0),
    glucose: diabetic ? rng.normal(165, 30) : rng.normal(100, 8),
    glucoseSd: diabetic ? 45 : 15,
    a1c: diabetic ? Math.max(5.8, rng.normal(7.9, 1.3)) : Math.min(6.2, rng.normal(5.4, 0.3)),
  };
}
