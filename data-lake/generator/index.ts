/** The synthetic EHR generator: see README.md. */
export { generateRawFiles, type CorruptFile, type GeneratedFile, type GenerationStats, type GroundTruthFile, type RawFile } from './generate.js';
export { writeRawLake, encodeFile, type GenerationProgress, type GenerationSummary } from './write.js';
export {
  resolveOptions,
  MILD_MESSINESS,
  NO_MESSINESS,
  DEFAULT_OPTIONS,
  YEAR_OF_DAILY_FILES,
  type GeneratorInput,
  type GeneratorOptions,
  type MessinessOptions,
} from './options.js';
export type { MessinessCounts } from './emitter.js';
export type { CorruptionKind } from './odd-files.js';
export { groundTruthSchema, groundTruthKey, aucFromHistograms } from './ground-truth.js';
export { charlsonIndex, charlsonCategoriesOf, normalizeIcd10, CHARLSON_CATEGORIES, CHARLSON_WEIGHTS } from './charlson.js';
export { LABS, type LabSpec } from './labs.js';
export { readmissionRisk, readmissionLogit, RISK_COEFFICIENTS, type DischargeFacts } from './risk.js';
export { contractSchemas } from '../../schemas/raw.js';
