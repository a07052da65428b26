/**
 * The Charlson comorbidity index over ICD-10 codes: Quan et al.'s ICD-10 coding algorithm
 * (Med Care 2005;43:1130-9) with Charlson's original weights (J Chronic Dis 1987;40:373-83).
 * Shared by the feature build and the synthetic generator (which scores every stay with it, from
 * the codes it writes, so the readmission risk depends only on what the lake shows). A code
 * matches a category when, written without its dot, it starts with one of the category's
 * prefixes (`E11.22` and `E1122` both start with `E112`).
 *
 * For columnar use a set of categories is a bit mask (bit i = CHARLSON_CATEGORIES[i]): masks of
 * several codes combine with `|`, and `charlsonScore(mask)` applies the hierarchy and weights.
 */

export const CHARLSON_CATEGORIES = [
  'myocardial_infarction',
  'congestive_heart_failure',
  'peripheral_vascular',
  'cerebrovascular',
  'dementia',
  'chronic_pulmonary',
  'rheumatic',
  'peptic_ulcer',
  'mild_liver',
  'diabetes',
  'diabetes_complicated',
  'hemiplegia',
  'renal',
  'malignancy',
  'severe_liver',
  'metastatic_tumor',
  'hiv_aids',
] as const;
export type CharlsonCategory = (typeof CHARLSON_CATEGORIES)[number];

/** Quan's ICD-10 codes; `A-B` is every code between two of the same length, inclusive. */
const QUAN_ICD10: Record<CharlsonCategory, string> = {
  myocardial_infarction: 'I21 I22 I25.2',
  congestive_heart_failure: 'I09.9 I11.0 I13.0 I13.2 I25.5 I42.0 I42.5-I42.9 I43 I50 P29.0',
  peripheral_vascular: 'I70 I71 I73.1 I73.8 I73.9 I77.1 I79.0 I79.2 K55.1 K55.8 K55.9 Z95.8 Z95.9',
  cerebrovascular: 'G45 G46 H34.0 I60-I69',
  dementia: 'F00-F03 F05.1 G30 G31.1',
  chronic_pulmonary: 'I27.8 I27.9 J40-J47 J60-J67 J68.4 J70.1 J70.3',
  rheumatic: 'M05 M06 M31.5 M32-M34 M35.1 M35.3 M36.0',
  peptic_ulcer: 'K25-K28',
  mild_liver: 'B18 K70.0-K70.3 K70.9 K71.3-K71.5 K71.7 K73 K74 K76.0 K76.2-K76.4 K76.8 K76.9 Z94.4',
  diabetes:
    'E10.0 E10.1 E10.6 E10.8 E10.9 E11.0 E11.1 E11.6 E11.8 E11.9 E12.0 E12.1 E12.6 E12.8 E12.9 ' +
    'E13.0 E13.1 E13.6 E13.8 E13.9 E14.0 E14.1 E14.6 E14.8 E14.9',
  diabetes_complicated: 'E10.2-E10.5 E10.7 E11.2-E11.5 E11.7 E12.2-E12.5 E12.7 E13.2-E13.5 E13.7 E14.2-E14.5 E14.7',
  hemiplegia: 'G04.1 G11.4 G80.1 G80.2 G81 G82 G83.0-G83.4 G83.9',
  renal: 'I12.0 I13.1 N03.2-N03.7 N05.2-N05.7 N18 N19 N25.0 Z49.0-Z49.2 Z94.0 Z99.2',
  malignancy: 'C00-C26 C30-C34 C37-C41 C43 C45-C58 C60-C76 C81-C85 C88 C90-C97',
  severe_liver: 'I85.0 I85.9 I86.4 I98.2 K70.4 K71.1 K72.1 K72.9 K76.5 K76.6 K76.7',
  metastatic_tumor: 'C77-C80',
  hiv_aids: 'B20-B22 B24',
};

export const CHARLSON_WEIGHTS: Readonly<Record<CharlsonCategory, number>> = {
  myocardial_infarction: 1,
  congestive_heart_failure: 1,
  peripheral_vascular: 1,
  cerebrovascular: 1,
  dementia: 1,
  chronic_pulmonary: 1,
  rheumatic: 1,
  peptic_ulcer: 1,
  mild_liver: 1,
  diabetes: 1,
  diabetes_complicated: 2,
  hemiplegia: 2,
  renal: 2,
  malignancy: 2,
  severe_liver: 3,
  metastatic_tumor: 6,
  hiv_aids: 6,
};

/** `E11.22` -> `E1122`: upper case, no dot, no spaces. */
export function normalizeIcd10(code: string): string {
  return code.replace(/[.\s]/g, '').toUpperCase();
}

function expand(spec: string): string[] {
  return spec.split(' ').flatMap((item) => {
    const [from, to] = item.split('-').map(normalizeIcd10) as [string, string | undefined];
    if (to === undefined) return [from];
    // Ranges vary only in their last character(s): I60-I69, E10.2-E10.5, C00-C26.
    const width = from.length;
    const head = from.slice(0, 1);
    const lo = Number(from.slice(1));
    const hi = Number(to.slice(1));
    const out: string[] = [];
    for (let n = lo; n <= hi; n++) out.push(head + String(n).padStart(width - 1, '0'));
    return out;
  });
}

const PREFIXES: ReadonlyArray<readonly [CharlsonCategory, readonly string[]]> = CHARLSON_CATEGORIES.map((c) => [c, expand(QUAN_ICD10[c])] as const);

const bit = (c: CharlsonCategory) => 1 << CHARLSON_CATEGORIES.indexOf(c);
const WEIGHT_BY_BIT = CHARLSON_CATEGORIES.map((c) => CHARLSON_WEIGHTS[c]);
/** Hierarchy: complicated diabetes supersedes uncomplicated, severe liver mild, metastatic any malignancy. */
const SUPERSEDES: ReadonlyArray<readonly [number, number]> = [
  [bit('diabetes_complicated'), bit('diabetes')],
  [bit('severe_liver'), bit('mild_liver')],
  [bit('metastatic_tumor'), bit('malignancy')],
];

/** The categories of a code as a bit mask (normally zero or one bit). */
export function charlsonMask(code: string): number {
  const norm = normalizeIcd10(code);
  let mask = 0;
  PREFIXES.forEach(([c, prefixes]) => {
    if (prefixes.some((p) => norm.startsWith(p))) mask |= bit(c);
  });
  return mask;
}

/** The index of a category mask, after the hierarchy. */
export function charlsonScore(mask: number): number {
  let m = mask;
  for (const [over, under] of SUPERSEDES) if (m & over) m &= ~under;
  let score = 0;
  for (let i = 0; m !== 0; i++, m >>>= 1) if (m & 1) score += WEIGHT_BY_BIT[i]!;
  return score;
}

/** The Charlson categories a code falls in (normally none or one). */
export function charlsonCategoriesOf(code: string): CharlsonCategory[] {
  const mask = charlsonMask(code);
  return CHARLSON_CATEGORIES.filter((c) => (mask & bit(c)) !== 0);
}

/** The index over a set of codes (a stay's, or a stay's and its history's). */
export function charlsonIndex(codes: Iterable<string>): number {
  let mask = 0;
  for (const code of codes) mask |= charlsonMask(code);
  return charlsonScore(mask);
}

/** `[category, prefixes]` of Quan's mapping, expanded (for independent re-implementations in tests). */
export function quanPrefixes(): Record<CharlsonCategory, string[]> {
  return Object.fromEntries(PREFIXES.map(([c, p]) => [c, [...p]])) as Record<CharlsonCategory, string[]>;
}
