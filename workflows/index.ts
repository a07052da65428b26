/** The workflow bundle's entry point: every workflow type the orchestration worker serves. */
export { ingestWorkflow, ingestProgressQuery } from './ingest.js';
export { featuresWorkflow, featuresProgressQuery } from './features.js';
export { trainWorkflow } from './train.js';
export { fitWorkflow } from './fit.js';
export { retrainWorkflow, retrainProgressQuery } from './retrain.js';
export { promoteWorkflow } from './promote.js';
export { backfillWorkflow, backfillProgressQuery, BACKFILL_INCOMPLETE } from './backfill.js';
export { compactWorkflow } from './compact.js';
export { scoreWorkflow } from './score.js';
export { exploreWorkflow } from './explore.js';
