/**
 * The Charlson comorbidity index (Quan's ICD-10 mapping) lives with the feature build, which
 * reads the same mapping; the generator re-exports it so both score stays identically.
 */
export {
  CHARLSON_CATEGORIES,
  CHARLSON_WEIGHTS,
  charlsonCategoriesOf,
  charlsonIndex,
  normalizeIcd10,
  type CharlsonCategory,
} from '../../activities/features/charlson.js';
