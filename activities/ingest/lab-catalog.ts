/**
 * The laboratory catalogue the curated lake is written in: for each LOINC code we accept, its
 * canonical UCUM unit, the other units real laboratories send it in with the exact conversion to
 * the canonical one, and the range of values a living patient can have, in the canonical unit.
 *
 * The range is wide on purpose: it separates the impossible (a negative glucose, a sodium of 20)
 * from the merely abnormal, which is clinical signal and must be kept. Bounds are inclusive unless
 * `minExclusive` says otherwise (a glucose of exactly 0 mg/dL cannot be measured in a live patient;
 * a troponin below the detection limit is reported as 0).
 *
 * A code that is not here is rejected (`unknown_loinc`) rather than passed through: without a
 * canonical unit its values cannot be compared across sources, without a range nothing tells an
 * impossible value from a real one, and no feature reads it. The row is kept in `rejects/` with its
 * reason, so nothing is lost; adding the code here and re-curating brings it in.
 *
 * Every code the synthetic generator writes (data-lake/generator/labs.ts) is here, plus a few other
 * common chemistry codes. Conversion factors are the ones laboratories publish (molar masses: glucose
 * 180.16 g/mol, urea nitrogen 28.014, calcium 40.08, magnesium 24.305, phosphorus 30.97, lactate 90.08).
 */

/** canonical = value * factor / divisor + offset. A divisor keeps "divide by 88.42" exact. */
export interface Conversion {
  factor: number;
  divisor: number;
  offset: number;
}

export interface PossibleRange {
  min: number;
  max: number;
  /** The minimum itself is impossible. */
  minExclusive: boolean;
}

export interface Analyte {
  loinc: string;
  name: string;
  /** The canonical UCUM unit, written into the curated lake. */
  unit: string;
  /** Other spellings of a unit (any case or spacing) and their conversion to `unit`. */
  alternatives: Readonly<Record<string, Conversion>>;
  range: PossibleRange;
}

const times = (factor: number): Conversion => ({ factor, divisor: 1, offset: 0 });
const per = (divisor: number): Conversion => ({ factor: 1, divisor, offset: 0 });
const SAME = times(1);
/** (min, max] */
const above = (min: number, max: number): PossibleRange => ({ min, max, minExclusive: true });
/** [min, max] */
const within = (min: number, max: number): PossibleRange => ({ min, max, minExclusive: false });

/** For a monovalent ion one equivalent is one mole. */
const MONOVALENT_ION = { 'mEq/L': SAME };
const THOUSANDS_PER_UL = {
  '10^3/uL': SAME,
  'K/uL': SAME,
  '10*3/mm3': SAME,
  'x10E3/uL': SAME,
  '10*9/L': SAME,
  '10^9/L': SAME,
  'x10*9/L': SAME,
  'G/L': SAME,
  '/uL': per(1000),
  '/mm3': per(1000),
};

const CATALOG: readonly Analyte[] = [
  { loinc: '2345-7', name: 'Glucose', unit: 'mg/dL', alternatives: { 'mmol/L': times(18.016) }, range: above(0, 3000) },
  { loinc: '2160-0', name: 'Creatinine', unit: 'mg/dL', alternatives: { 'umol/L': per(88.42) }, range: above(0, 100) },
  { loinc: '718-7', name: 'Hemoglobin', unit: 'g/dL', alternatives: { 'g/L': per(10), 'g/100mL': SAME }, range: above(0, 30) },
  { loinc: '4544-3', name: 'Hematocrit', unit: '%', alternatives: { 'L/L': times(100) }, range: above(0, 100) },
  { loinc: '2951-2', name: 'Sodium', unit: 'mmol/L', alternatives: MONOVALENT_ION, range: within(80, 200) },
  { loinc: '2823-3', name: 'Potassium', unit: 'mmol/L', alternatives: MONOVALENT_ION, range: within(1, 15) },
  { loinc: '2075-0', name: 'Chloride', unit: 'mmol/L', alternatives: MONOVALENT_ION, range: within(40, 200) },
  { loinc: '2028-9', name: 'Carbon dioxide, total', unit: 'mmol/L', alternatives: MONOVALENT_ION, range: above(0, 80) },
  { loinc: '3094-0', name: 'Urea nitrogen', unit: 'mg/dL', alternatives: { 'mmol/L': times(2.801) }, range: above(0, 300) },
  { loinc: '17861-6', name: 'Calcium', unit: 'mg/dL', alternatives: { 'mmol/L': times(4.008), 'mEq/L': times(2.004) }, range: within(1, 25) },
  { loinc: '6690-2', name: 'Leukocytes', unit: '10*3/uL', alternatives: THOUSANDS_PER_UL, range: within(0, 1500) },
  { loinc: '777-3', name: 'Platelets', unit: '10*3/uL', alternatives: THOUSANDS_PER_UL, range: within(0, 5000) },
  { loinc: '1751-7', name: 'Albumin', unit: 'g/dL', alternatives: { 'g/L': per(10) }, range: above(0, 10) },
  { loinc: '1975-2', name: 'Bilirubin, total', unit: 'mg/dL', alternatives: { 'umol/L': per(17.1) }, range: within(0, 100) },
  { loinc: '1742-6', name: 'Alanine aminotransferase', unit: 'U/L', alternatives: { 'IU/L': SAME, 'ukat/L': times(60) }, range: within(0, 50_000) },
  { loinc: '1920-8', name: 'Aspartate aminotransferase', unit: 'U/L', alternatives: { 'IU/L': SAME, 'ukat/L': times(60) }, range: within(0, 50_000) },
  { loinc: '2524-7', name: 'Lactate', unit: 'mmol/L', alternatives: { 'mg/dL': per(9.008), 'mEq/L': SAME }, range: within(0, 50) },
  // INR is a ratio, often sent without a unit (''), and that is unambiguous.
  { loinc: '6301-6', name: 'INR', unit: '{INR}', alternatives: { '': SAME, INR: SAME, '{ratio}': SAME, ratio: SAME }, range: above(0, 50) },
  { loinc: '19123-9', name: 'Magnesium', unit: 'mg/dL', alternatives: { 'mmol/L': times(2.431), 'mEq/L': times(1.2155) }, range: above(0, 20) },
  { loinc: '2777-1', name: 'Phosphate', unit: 'mg/dL', alternatives: { 'mmol/L': times(3.097) }, range: above(0, 30) },
  // HbA1c: IFCC mmol/mol to NGSP % by the IFCC-NGSP master equation (an affine map, not a factor).
  { loinc: '4548-4', name: 'Hemoglobin A1c', unit: '%', alternatives: { 'mmol/mol': { factor: 0.09148, divisor: 1, offset: 2.152 } }, range: above(0, 25) },
  {
    loinc: '10839-9',
    name: 'Troponin I, cardiac',
    unit: 'ng/mL',
    alternatives: { 'ug/L': SAME, 'ng/L': per(1000), 'pg/mL': per(1000) },
    range: within(0, 1000),
  },
  // Not written by the generator; common enough in real extracts to be recognised.
  { loinc: '2093-3', name: 'Cholesterol', unit: 'mg/dL', alternatives: { 'mmol/L': times(38.67) }, range: above(0, 3000) },
  { loinc: '2571-8', name: 'Triglyceride', unit: 'mg/dL', alternatives: { 'mmol/L': times(88.57) }, range: above(0, 30_000) },
  { loinc: '1988-5', name: 'C reactive protein', unit: 'mg/L', alternatives: { 'mg/dL': times(10) }, range: within(0, 1000) },
  { loinc: '3016-3', name: 'Thyrotropin', unit: 'm[IU]/L', alternatives: { 'mIU/L': SAME, 'uIU/mL': SAME, 'u[IU]/mL': SAME }, range: within(0, 1000) },
];

/** Lower case, no spaces, one spelling of micro (µ, μ -> u) and of powers (^ -> *). */
export function unitKey(unit: string): string {
  return unit.normalize('NFKC').replace(/\s+/g, '').replace(/μ/g, 'u').replace(/\^/g, '*').toLowerCase();
}

export interface CatalogEntry extends Analyte {
  /** `unitKey` of every accepted spelling -> conversion; the canonical one maps to null. */
  units: ReadonlyMap<string, Conversion | null>;
}

function entry(a: Analyte): CatalogEntry {
  const units = new Map<string, Conversion | null>();
  for (const [unit, conversion] of Object.entries(a.alternatives)) units.set(unitKey(unit), conversion);
  units.set(unitKey(a.unit), null);
  return { ...a, units };
}

export const LAB_CATALOG: ReadonlyMap<string, CatalogEntry> = new Map(CATALOG.map((a) => [a.loinc, entry(a)]));

export function isPossible(range: PossibleRange, value: number): boolean {
  return (range.minExclusive ? value > range.min : value >= range.min) && value <= range.max;
}

export function convert(c: Conversion, value: number): number {
  return (value * c.factor) / c.divisor + c.offset;
}
