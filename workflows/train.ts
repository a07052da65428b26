import type { CandidateResult, Hyperparameters, TrainInput } from '../schemas/workflows.js';
import { trainingActivity } from './activity-proxies.js';
import { fitPreprocessing } from './fit.js';
import { checkLake, checkName, invalid } from './validate.js';

/** Sub-forest activities a random forest is trained in, unless its `subForests` hyperparameter says otherwise. */
export const DEFAULT_SUB_FORESTS = 4;

/**
 * Trains and evaluates every requested family in parallel, each a candidate version in the
 * registry. Each activity id names the family, so the Web UI shows which one is slow or failed.
 * A random forest is trained as sub-forests (`train/rf/<k>`), in parallel on whichever workers
 * serve the training queue, then merged and evaluated by the family's own activity (`train/rf`).
 */
export async function trainWorkflow(input: TrainInput): Promise<CandidateResult[]> {
  checkLake(input.lake);
  checkName('model', input.model);
  if (input.families.length === 0) invalid('families must name at least one model family');
  if (!(input.testFraction > 0 && input.testFraction < 1)) invalid(`testFraction must be between 0 and 1, got ${input.testFraction}`);
  if (input.heartbeatSeconds !== undefined && !(Number.isInteger(input.heartbeatSeconds) && input.heartbeatSeconds >= 5 && input.heartbeatSeconds <= 3600)) {
    invalid(`heartbeatSeconds must be a whole number from 5 to 3600, got ${input.heartbeatSeconds}`);
  }
  // One pipeline for every family, fitted on this split's training patients only.
  const { pipelineKey } = await fitPreprocessing({
    lake: input.lake,
    dataset: input.dataset,
    featuresVersion: input.featuresVersion,
    testFraction: input.testFraction,
    seed: input.seed,
  });
  return Promise.all(
    input.families.map(async (family) => {
      const candidate = {
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
        ...(input.dataQuality ? { dataQuality: input.dataQuality } : {}),
      };
      // A lost worker is noticed after the heartbeat timeout; the retry resumes from the last epoch checkpoint.
      if (family === 'mlp') return trainingActivity('train/mlp', 'trainGpu', input.heartbeatSeconds).trainCandidate(candidate);
      if (family !== 'rf') return trainingActivity(`train/${family}`).trainCandidate(candidate);
      const parts = subForestCount(candidate.hyperparameters);
      // The count is recorded with the other hyperparameters (the model does not depend on it).
      const hyperparameters: Hyperparameters = { ...candidate.hyperparameters, subForests: parts };
      const subForests = await Promise.all(
        Array.from({ length: parts }, (_, part) => trainingActivity(`train/rf/${part}`).trainSubForest({ ...candidate, hyperparameters, part, parts })),
      );
      return trainingActivity('train/rf').trainCandidate({ ...candidate, hyperparameters, subForests });
    }),
  );
}

function subForestCount(h: Hyperparameters): number {
  const v = h.subForests ?? DEFAULT_SUB_FORESTS;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 256) invalid('rf hyperparameter subForests must be a whole number from 1 to 256');
  return v;
}
