/**
 * A patient's history, encounter by encounter, with readmissions generated causally: after each
 * inpatient discharge that is not a death, the risk is computed from what is known then, and a
 * Bernoulli draw decides. A readmission is placed 1 to 30 days after discharge; without one, no
 * inpatient admission may start within 30 days of that discharge (other visits may). The
 * ground truth gets each such stay with its risk and the label the lake will imply.
 */
import type { EncounterClass } from '../../schemas/raw.js';
import type { Calendar } from './calendar.js';
import type { GroundTruth } from './ground-truth.js';
import { drawPatient } from './patient.js';
import { Rng } from './prng.js';
import { DAY_MS, DELAY_WEIGHTS, HOUR_MS, probabilitySeenBefore, quantizeRisk, readmissionAdmitMs, readmissionRisk } from './risk.js';
import { ageOn, simulateEncounter } from './stay.js';
import type { StayEnv } from './stay-env.js';

export const CLINICAL_STREAM = 1;
/** At most this many encounters per patient: the stay that reaches it cannot be followed by a readmission. */
export const MAX_ENCOUNTERS = 8;
const READMISSION_WINDOW_MS = 30 * DAY_MS;

export interface TimelineEnv extends StayEnv {
  seed: number;
  truth: GroundTruth;
}

const CLASSES: readonly EncounterClass[] = ['inpatient', 'emergency', 'outpatient', 'ambulatory'];

/** Older and sicker patients are admitted more; `inpatientAllowed` false inside a no-readmission window. */
function visitClass(rng: Rng, age: number, burden: number, inpatientAllowed: boolean): EncounterClass {
  const inpatient = inpatientAllowed ? 0.1 + 0.006 * Math.max(0, age - 40) + 0.035 * burden : 0;
  return CLASSES[rng.weighted([inpatient, 0.22, 0.4, 0.14])]!;
}

/** Clinic visits start in office hours, at or after `t`; admissions and emergencies at any hour. */
function visitStart(rng: Rng, cls: EncounterClass, t: number): number {
  if (cls === 'inpatient' || cls === 'emergency') return t;
  const start = Math.round(Math.floor(t / DAY_MS) * DAY_MS + rng.uniform(8, 17) * HOUR_MS);
  return start >= t ? start : start + DAY_MS;
}

/**
 * Whether the lake shows the 30 days after a discharge, so its label is final. The window
 * (discharge, discharge + 30 d] is closed and the lake holds what began before the cutoff, so the
 * discharge must be more than 30 days before the cutoff. As the cutoff is a midnight, that is the
 * features' follow-up clock exactly (activities/features/readmission.ts, in a lake of at least 31
 * ingest dates): the discharge is past from the midnight after its UTC date, however the producer
 * dated its file (the day after, the admission's date, the evening's local date: curated
 * `discharge_lag_days` counts the difference), and 30 days later is no later than the lake's last
 * ingest date (generate.ts makes sure that date holds an encounters file). Not `probabilitySeenBefore < 1`
 * (discharge + 30 d > cutoff), which called a stay discharged at midnight exactly 30 days before the
 * cutoff followed, although a readmission at the cutoff would count and could not be in the lake.
 */
export function isFollowedUp(dischargeMs: number, calendar: Calendar): boolean {
  return dischargeMs + READMISSION_WINDOW_MS < calendar.cutoffMs;
}

export function simulatePatient(env: TimelineEnv, index: number): void {
  const { calendar, emitter, truth, timing } = env;
  const rng = Rng.derive(env.seed, index, CLINICAL_STREAM);
  emitter.beginPatient(index);
  timing.beginPatient(index);
  const pt = drawPatient(rng, env.seed, index, calendar);
  const planned = Math.min(MAX_ENCOUNTERS, 1 + rng.poisson(1.1 + 0.3 * pt.conditions.size + 0.015 * Math.max(0, pt.startAge - 50)));
  const meanGap = (calendar.cutoffMs - calendar.clinicalStartMs) / planned;

  let t = calendar.clinicalStartMs + rng.next() * meanGap;
  let count = 0;
  let readmitAt = NaN;
  let noInpatientUntil = -Infinity;
  let firstLandingDay = calendar.lastDay;
  const inpatientAdmissions: number[] = [];

  while (count < MAX_ENCOUNTERS) {
    let cls: EncounterClass;
    let admitMs: number;
    if (!Number.isNaN(readmitAt)) {
      cls = 'inpatient';
      admitMs = readmitAt;
      readmitAt = NaN;
    } else {
      if (count >= planned) break;
      const age = ageOn(pt.birthDay, t);
      cls = visitClass(rng, age, pt.burden, t > noInpatientUntil);
      admitMs = visitStart(rng, cls, Math.round(t));
      // The evening knob: an admission late in the local evening (a readmission keeps its drawn delay).
      if ((cls === 'inpatient' || cls === 'emergency') && timing.isEvening()) admitMs = timing.eveningOf(admitMs);
    }
    if (admitMs >= calendar.cutoffMs) break;
    count++;

    const priorInpatient365 = inpatientAdmissions.filter((a) => a >= admitMs - 365 * DAY_MS).length;
    if (cls === 'inpatient') inpatientAdmissions.push(admitMs);
    const outcome = simulateEncounter(env, rng, pt, cls, admitMs, count, priorInpatient365);
    firstLandingDay = Math.min(firstLandingDay, outcome.firstLandingDay);
    if (outcome.expired || Number.isNaN(outcome.endMs)) break;
    const endMs = outcome.endMs;

    if (outcome.facts) {
      const p = readmissionRisk(outcome.facts);
      const seen = probabilitySeenBefore(endMs, calendar.cutoffMs);
      const censored = !isFollowedUp(endMs, calendar);
      if (count >= MAX_ENCOUNTERS) {
        // The patient's last possible encounter: nothing may follow, so nothing is drawn.
        truth.add(outcome.encounterId, p, 0, 0, censored);
      } else if (rng.next() < p) {
        const delayIndex = rng.weighted(DELAY_WEIGHTS);
        readmitAt = readmissionAdmitMs(endMs, delayIndex, rng.next());
        truth.add(outcome.encounterId, p, quantizeRisk(p * seen), readmitAt < calendar.cutoffMs ? 1 : 0, censored);
      } else {
        noInpatientUntil = endMs + READMISSION_WINDOW_MS;
        truth.add(outcome.encounterId, p, quantizeRisk(p * seen), 0, censored);
      }
    }
    t = endMs + Math.max(HOUR_MS, rng.exponential(meanGap));
  }

  const { person } = pt;
  emitter.patient(
    firstLandingDay,
    pt.id,
    person.first,
    person.last,
    pt.birthDay,
    pt.sex,
    pt.race,
    pt.ethnicity,
    person.zip,
    person.ssn,
    person.phone,
    person.email,
  );
}
