/**
 * One encounter of a patient: how long it lasts, its labs, how it ends, its diagnoses, and the
 * rows that say so. For a closed, non-expired inpatient stay it also returns the facts known at
 * discharge, read from exactly the values it wrote, for the readmission risk.
 */
import type { DischargeDisposition, EncounterClass } from '../../schemas/raw.js';
import { charlsonIndex } from './charlson.js';
import { FACILITIES, FLARE_REASON, LAB_DIAGNOSES, asWrittenBy, drawReason } from './clinical-codes.js';
import type { StayEnv } from './stay-env.js';
import type { StayState } from './labs.js';
import { drawStayLabs } from './stay-labs.js';
import type { PatientState } from './patient.js';
import type { Rng } from './prng.js';
import { DAY_MS, type DischargeFacts, HOUR_MS } from './risk.js';

export interface EncounterOutcome {
  encounterId: string;
  /** NaN while the encounter is open at the cutoff. */
  endMs: number;
  expired: boolean;
  /** For a closed inpatient stay that did not end in death. */
  facts: DischargeFacts | undefined;
  /** The earliest ingest date any of its rows landed on. */
  firstLandingDay: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export function ageOn(birthDay: number, ms: number): number {
  const b = new Date(birthDay * DAY_MS);
  const d = new Date(ms);
  const beforeBirthday = d.getUTCMonth() < b.getUTCMonth() || (d.getUTCMonth() === b.getUTCMonth() && d.getUTCDate() < b.getUTCDate());
  return d.getUTCFullYear() - b.getUTCFullYear() - (beforeBirthday ? 1 : 0);
}

function plannedEnd(rng: Rng, cls: EncounterClass, admitMs: number, age: number, severity: number): number {
  switch (cls) {
    case 'inpatient': {
      const los = Math.min(40, Math.max(0.4, rng.logNormal(3.1 * (1 + 0.008 * (age - 60)) * Math.exp(0.22 * severity), 0.5)));
      // Discharged in the daytime of the day the length of stay points to, at least 6 hours in.
      let end = Math.floor((admitMs + los * DAY_MS) / DAY_MS) * DAY_MS + rng.uniform(10, 18) * HOUR_MS;
      if (end < admitMs + 6 * HOUR_MS) end += DAY_MS;
      return Math.round(end);
    }
    case 'emergency':
      return Math.round(admitMs + rng.uniform(2, 10) * HOUR_MS);
    case 'outpatient':
      return Math.round(admitMs + rng.uniform(1 / 3, 1) * HOUR_MS);
    case 'ambulatory':
      return Math.round(admitMs + rng.uniform(1, 6) * HOUR_MS);
  }
}

const DISPOSITIONS = ['home', 'home_health', 'snf', 'rehab', 'ama', 'other'] as const;

function dischargeDisposition(rng: Rng, cls: EncounterClass, pt: PatientState, age: number, losDays: number): DischargeDisposition | null {
  if (cls === 'emergency') return rng.pick(['home', 'home', 'home', 'home', 'home', 'home', 'home', 'home', 'ama', 'other'] as const);
  if (cls !== 'inpatient') return rng.bernoulli(0.8) ? null : 'home';
  const poor = pt.payer === 'self_pay' || pt.payer === 'medicaid' ? 2 : 1;
  const weights = [
    0.58,
    0.1 + 0.003 * Math.max(0, age - 65),
    0.02 + 0.006 * Math.max(0, age - 60) + 0.008 * Math.min(losDays, 20),
    0.035,
    (age < 60 ? 0.035 : 0.01) * poor,
    0.03,
  ];
  return DISPOSITIONS[rng.weighted(weights)]!;
}

function primaryReason(rng: Rng, cls: EncounterClass, pt: PatientState): string {
  if (cls === 'inpatient' && pt.conditions.size > 0 && rng.bernoulli(0.3)) {
    const flare = FLARE_REASON[rng.pick([...pt.conditions])];
    if (flare) return flare;
  }
  return drawReason(rng, cls);
}

export function simulateEncounter(
  env: StayEnv,
  rng: Rng,
  pt: PatientState,
  cls: EncounterClass,
  admitMs: number,
  seq: number,
  priorInpatient365: number,
): EncounterOutcome {
  const { calendar, emitter, timing } = env;
  const encounterId = `V${pt.digits}${pad(seq, 2)}`;
  const facility = rng.bernoulli(0.85) ? pt.facility : rng.pick(FACILITIES);
  const payer = rng.bernoulli(0.03) ? null : pt.payer;
  const age = ageOn(pt.birthDay, admitMs);
  const severity = rng.normal() + 0.08 * pt.burden;
  const inpatient = cls === 'inpatient';
  const daytimeEnd = plannedEnd(rng, cls, admitMs, age, severity);
  // The evening knob moves an inpatient discharge from the daytime to the evening of the same date.
  const eveningDischarge = inpatient && timing.isEvening();
  const end = eveningDischarge ? timing.eveningOf(daytimeEnd) : daytimeEnd;
  const open = end >= calendar.cutoffMs;
  const endMs = open ? NaN : end;
  // Only a closed stay can be sent with its discharge: the producer cannot know one after the cutoff.
  const sentAtAdmission = !open && timing.sentAtAdmission();
  const landing = open ? calendar.lastDay : sentAtAdmission ? calendar.localDay(admitMs) : timing.landing(end, eveningDischarge);
  const stay: StayState = {
    severity: inpatient ? severity : 0.5 * severity,
    aki: inpatient && rng.bernoulli(0.12 + (pt.conditions.has('renal') ? 0.15 : 0) + 0.1 * Math.max(0, severity)) ? rng.logNormal(0.6, 0.5) : 0,
    sodiumDrop: inpatient && rng.bernoulli(0.1 + (pt.conditions.has('congestive_heart_failure') ? 0.1 : 0)) ? rng.uniform(4, 14) : 0,
  };
  const reason = primaryReason(rng, cls, pt);
  const labs = drawStayLabs(
    env,
    rng,
    pt,
    cls,
    `L${pt.digits}${pad(seq, 2)}`,
    encounterId,
    admitMs,
    Math.min(end, calendar.cutoffMs),
    stay,
    sentAtAdmission ? landing : undefined,
  );

  const losDays = (end - admitMs) / DAY_MS;
  const deathRisk = 1 / (1 + Math.exp(-(-5.6 + 0.045 * (age - 65) + 0.15 * pt.burden + 0.7 * Math.max(0, severity))));
  const expired = inpatient && !open && rng.bernoulli(deathRisk);
  const disposition = open ? null : expired ? 'expired' : dischargeDisposition(rng, cls, pt, age, losDays);

  emitter.encounter(landing, encounterId, pt.id, cls, admitMs, endMs, asWrittenBy(facility, reason), disposition, facility, payer);
  let charlson = 0;
  if (!open) {
    const chartP = inpatient ? 0.9 : cls === 'emergency' ? 0.6 : 0.5;
    const codes = new Set<string>([reason]);
    for (const code of pt.chronicCodes) if (rng.bernoulli(chartP)) codes.add(code);
    for (const code of pt.secondaryCodes) if (rng.bernoulli(inpatient ? 0.8 : 0.4)) codes.add(code);
    if (inpatient && labs.sodiumMin < 133) codes.add(LAB_DIAGNOSES.hyponatremia);
    if (inpatient && labs.hemoglobinMin < 10) codes.add(LAB_DIAGNOSES.anemia);
    if (inpatient && stay.aki > 0.5) codes.add(LAB_DIAGNOSES.acuteKidneyInjury);
    let rank = 1;
    for (const code of codes) emitter.diagnosis(landing, encounterId, pt.id, asWrittenBy(facility, code), rank++);
    charlson = charlsonIndex(codes);
  }

  const facts: DischargeFacts | undefined =
    inpatient && !open && !expired && disposition !== null && disposition !== 'expired'
      ? {
          age: Math.min(90, ageOn(pt.birthDay, end)),
          losDays,
          priorInpatient365,
          charlson,
          hemoglobinMin: labs.hemoglobinMin,
          creatinineMax: labs.creatinineMax,
          sodiumMin: labs.sodiumMin,
          albuminMin: labs.albuminMin,
          disposition,
          payer,
        }
      : undefined;
  return { encounterId, endMs, expired, facts, firstLandingDay: Math.min(landing, labs.firstLandingDay) };
}
