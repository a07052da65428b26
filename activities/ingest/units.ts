/**
 * One canonical unit per LOINC code (lab-catalog.ts). A value in an alternative unit is converted
 * and the row counts as corrected; an unknown unit for a known analyte is rejected rather than
 * guessed, and so is a code the catalogue does not know.
 */
import { type CatalogEntry, type Conversion, LAB_CATALOG, unitKey } from './lab-catalog.js';

export type UnitOutcome =
  | { kind: 'canonical'; analyte: CatalogEntry }
  | { kind: 'converted'; analyte: CatalogEntry; conversion: Conversion }
  | { kind: 'unknown_unit'; analyte: CatalogEntry }
  | { kind: 'unknown_loinc' };

const UNKNOWN_LOINC: UnitOutcome = { kind: 'unknown_loinc' };

/** How a value sent as `unit` (any case or spacing; null when absent) becomes canonical for `loinc`. */
export function resolveUnit(loinc: string, unit: string | null): UnitOutcome {
  const analyte = LAB_CATALOG.get(loinc);
  if (!analyte) return UNKNOWN_LOINC;
  const conversion = analyte.units.get(unit === null ? '' : unitKey(unit));
  if (conversion === undefined) return { kind: 'unknown_unit', analyte };
  return conversion === null ? { kind: 'canonical', analyte } : { kind: 'converted', analyte, conversion };
}

/**
 * `resolveUnit` remembered per (code, unit) pair: an extract repeats a handful of pairs over many
 * rows, so the string work is done once per pair, not once per row.
 */
export function unitResolver(): (loinc: string, unit: string | null) => UnitOutcome {
  const seen = new Map<string, UnitOutcome>();
  return (loinc, unit) => {
    const key = unit === null ? loinc : `${loinc}\u0000${unit}`;
    let outcome = seen.get(key);
    if (!outcome) seen.set(key, (outcome = resolveUnit(loinc, unit)));
    return outcome;
  };
}
