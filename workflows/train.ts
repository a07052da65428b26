import type { CandidateResult, TrainInput } from '../schemas/workflows.js';
import { trainingActivity } from './activity-proxies.js';
import { fitPreprocessing } from './features.js';
import { checkLake, checkName, invalid } from './validate.js';

/**
 * Trains and evaluates every requested family in parallel, each a candidate version in the
 * registry. Each activity id names the family, so the Web UI shows which one is slow or failed.
 */
export async function trainWorkflow(input: TrainInput): Promise<CandidateResult[]> {
  checkLake(input.lake);
  checkName('model', input.model);
  if (input.families.length === 0) invalid('families must name at least one model family');
  if (!(input.testFraction > 0 && input.testFraction < 1)) invalid(`testFraction must be between 0 and 1, got ${input.testFraction}`);
  // One pipeline for every family, fitted on this split's training patients only.
  const { pipelineKey } = await fitPreprocessing({
    lake: input.lake, dataset: input.dataset, featuresVersion: input.featuresVersion, testFraction: input.testFraction, seed: input.seed,
  });
  return Promise.all(input.families.map((family) =>
    trainingActivity(`train/${family}`).trainCandidate({
      lake: input.lake,
      model: input.model,
      dataset: input.dataset,
      featuresVersion: input.featuresVersion,
      family,
      version: `${input.versionStamp}-${family}`,
      hyperparameters: input.hyperparameters[family] ?? {},
      testFraction: input.testFraction,
      seed: input.seed,
      codeVersion: input.codeVersion,
      pipelineKey,
    })));
}
