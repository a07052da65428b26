/**
 * One canonical unit per LOINC code, and the conversions the contract names. A value in an
 * alternative unit is converted and the row counts as corrected; an unknown unit for a known
 * analyte is rejected rather than guessed.
 */
export interface UnitRule {
  canonical: string;
  /** Alternative unit (lower case) -> factor to multiply by to get the canonical unit. */
  alternatives: Record<string, number>;
}

export const UNIT_RULES: Record<string, UnitRule> = {
  '2345-7': { canonical: 'mg/dL', alternatives: { 'mmol/l': 18.016 } }, // glucose
  '2160-0': { canonical: 'mg/dL', alternatives: { 'umol/l': 1 / 88.42, 'µmol/l': 1 / 88.42 } }, // creatinine
  '718-7': { canonical: 'g/dL', alternatives: { 'g/l': 0.1 } }, // hemoglobin
};

export type UnitOutcome = { kind: 'canonical'; unit: string } | { kind: 'converted'; unit: string; factor: number } | { kind: 'unknown' };

export function resolveUnit(loinc: string, unit: string | null): UnitOutcome {
  const rule = UNIT_RULES[loinc];
  if (!rule) return { kind: 'canonical', unit: unit ?? '' }; // analyte without a rule: kept as sent
  const u = (unit ?? '').trim().toLowerCase();
  if (u === rule.canonical.toLowerCase()) return { kind: 'canonical', unit: rule.canonical };
  const factor = rule.alternatives[u];
  return factor === undefined ? { kind: 'unknown' } : { kind: 'converted', unit: rule.canonical, factor };
}
