/**
 * ICD-10-CM chapters by their code ranges (the tabular list's chapter headings, FY2024). A code's
 * chapter is found from its category, the first three characters written without the dot, which
 * sort within a range as strings do (`C4A` falls in C00-D49, `O9A` in O00-O9A). Codes between
 * chapters (no such category exists) and malformed codes have no chapter.
 */

export const ICD10_CHAPTERS: ReadonlyArray<readonly [from: string, to: string, name: string]> = [
  ['A00', 'B99', 'infectious'],
  ['C00', 'D49', 'neoplasms'],
  ['D50', 'D89', 'blood_immune'],
  ['E00', 'E89', 'endocrine_metabolic'],
  ['F01', 'F99', 'mental_behavioural'],
  ['G00', 'G99', 'nervous'],
  ['H00', 'H59', 'eye'],
  ['H60', 'H95', 'ear'],
  ['I00', 'I99', 'circulatory'],
  ['J00', 'J99', 'respiratory'],
  ['K00', 'K95', 'digestive'],
  ['L00', 'L99', 'skin'],
  ['M00', 'M99', 'musculoskeletal'],
  ['N00', 'N99', 'genitourinary'],
  ['O00', 'O9A', 'pregnancy'],
  ['P00', 'P96', 'perinatal'],
  ['Q00', 'Q99', 'congenital'],
  ['R00', 'R99', 'symptoms_findings'],
  ['S00', 'T88', 'injury_poisoning'],
  ['U00', 'U85', 'special_purposes'],
  ['V00', 'Y99', 'external_causes'],
  ['Z00', 'Z99', 'health_factors'],
];

const CATEGORY_RE = /^[A-Z][0-9][0-9A-Z]/;

/** The chapter name of an ICD-10-CM code (with or without its dot), or null. */
export function icd10Chapter(code: string | null): string | null {
  if (code === null) return null;
  const norm = code.replace(/[.\s]/g, '').toUpperCase();
  if (!CATEGORY_RE.test(norm)) return null;
  const category = norm.slice(0, 3);
  for (const [from, to, name] of ICD10_CHAPTERS) if (category >= from && category <= to) return name;
  return null;
}
