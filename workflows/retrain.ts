import {
  ApplicationFailure,
  ParentClosePolicy,
  defineQuery,
  executeChild,
  log,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TypedSearchAttributes } from '@temporalio/common';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../schemas/search-attributes.js';
import {
  DEFAULT_GATE,
  DEFAULT_TEST_FRACTION,
  IMPLEMENTED_FAMILIES,
  MODEL_FAMILIES,
  type CandidateResult,
  type RetrainInput,
  type RetrainProgress,
  type RetrainResult,
  type RetrainStage,
} from '../schemas/workflows.js';
import { type QualityOutcome, type QualityReport, describeBreaches, resolveQualityLimits } from '../schemas/quality.js';
import { featuresWorkflow } from './features.js';
import { ingestWorkflow } from './ingest.js';
import { promoteUnderLock, promotionLockId } from './promote.js';
import { trainWorkflow } from './train.js';
import { checkBucketCount, checkDateRange, checkLake, checkName, invalid, checkActor } from './validate.js';

export const retrainProgressQuery = defineQuery<RetrainProgress>('progress');

/** 20261128T090512Z: sortable, from workflow time (deterministic on replay). */
function versionStamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function checkInput(input: RetrainInput): void {
  checkActor(input.actor, 'retrain');
  checkLake(input.lake);
  checkName('model', input.model);
  checkName('dataset', input.dataset);
  checkBucketCount(input.bucketCount);
  if (input.ingest) checkDateRange(input.ingest.from, input.ingest.to);
  if (input.families.length === 0) invalid('families must name at least one model family');
  const { error } = resolveQualityLimits(input.quality);
  if (error) invalid(error);
  if (input.acceptQualityBreach !== undefined && input.acceptQualityBreach.trim() === '') invalid('acceptQualityBreach needs a reason');
  for (const f of input.families) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(f)) invalid(`unknown model family "${f}"; known: ${MODEL_FAMILIES.join(', ')}`);
    if (!IMPLEMENTED_FAMILIES.includes(f)) invalid(`model family "${f}" has no trainer yet; available: ${IMPLEMENTED_FAMILIES.join(', ')}`);
  }
}

/**
 * One paragraph for the run's memo (the Web UI shows it beside the run): versions, counts and
 * metrics only, never a row. Memos are payloads, so they are encrypted like the rest.
 */
export function retrainSummary(input: RetrainInput, r: RetrainResult): string {
  const lines = [
    r.promotion.promoted ? `promoted ${input.model} ${r.promotion.version}` : `not promoted (${r.promotion.version}): ${r.promotion.reason}`,
    ...r.candidates.map((c) => `${c.family}: test ROC AUC ${c.metrics.rocAuc.toFixed(4)} on ${c.metrics.testRows} stays`),
    `features ${r.features.dataset}@${r.features.version}: ${r.features.rows} stays in ${r.features.shards} shards (${r.features.builtShards} built)`,
    ...(r.ingest
      ? [`ingest: ${r.ingest.files} files (${r.ingest.skippedFiles} unchanged, ${r.ingest.quarantinedFiles} quarantined), ${r.ingest.rowsIn} rows`]
      : []),
    ...(r.quality.acceptedBreach ? [`data-quality breach accepted ("${r.quality.acceptedBreach}"): ${qualityBreaches(r.quality)}`] : []),
  ];
  return lines.join('; ');
}

const qualityBreaches = (q: QualityOutcome) =>
  [q.ingest, q.features]
    .filter((r): r is QualityReport => !!r && !r.passed)
    .map(describeBreaches)
    .join('; ');

/**
 * The main job: ingest (if asked) -> features -> train and evaluate each family -> gate -> promote.
 * Each stage is a child workflow with id `<this id>/<stage>`, so a rerun of the same id finds
 * finished stages' outputs in the lake and skips their work.
 */
export async function retrainWorkflow(input: RetrainInput): Promise<RetrainResult> {
  checkInput(input);
  const { workflowId } = workflowInfo();
  const progress: RetrainProgress = { stage: 'starting', stagesDone: [], candidates: 0 };
  setHandler(retrainProgressQuery, () => progress);
  const childAttributes = (stage: RetrainStage) =>
    new TypedSearchAttributes([
      { key: SA_MODEL, value: input.model },
      { key: SA_DATASET, value: input.dataset },
      { key: SA_STAGE, value: stage },
      { key: SA_TRIGGER, value: input.trigger },
    ]);
  const enter = (stage: RetrainStage) => {
    if (progress.stage !== 'starting') progress.stagesDone.push(progress.stage);
    progress.stage = stage;
    if (stage === 'done') delete progress.stageWorkflowId;
    else progress.stageWorkflowId = stage === 'promote' ? promotionLockId(input.model) : `${workflowId}/${stage}`;
    upsertSearchAttributes([{ key: SA_STAGE, value: stage }]);
    // The SDK adds workflowId, runId and workflowType; not logged again on replay.
    log.info('retrain stage', { stage, model: input.model, trigger: input.trigger });
  };
  const child = { parentClosePolicy: ParentClosePolicy.TERMINATE };
  const quality: QualityOutcome = { ingest: null, features: null, ...(input.acceptQualityBreach ? { acceptedBreach: input.acceptQualityBreach } : {}) };
  /**
   * The data-quality gate: a breach stops the run before anything trains, with a failure naming the
   * table or feature, the reason codes with their counts and the limits (the Web UI shows it; the
   * memo and the stage say where it stopped), unless a person accepted it on purpose.
   */
  const gate = (report: QualityReport) => {
    if (report.passed) return;
    if (input.acceptQualityBreach) {
      log.warn('data-quality breach accepted', { stage: report.stage, breaches: report.breaches.length });
      return;
    }
    enter('quality');
    const message = `data-quality gate: ${describeBreaches(report)}. Fix the data, change the limits (--quality name=value), or accept it with --accept-quality-breach "<reason>"`;
    upsertMemo({ summary: `stopped at the data-quality gate after ${report.stage}: ${describeBreaches(report)}` });
    throw ApplicationFailure.create({ type: 'DataQualityError', message, nonRetryable: true, details: [report] });
  };

  let ingest = null;
  if (input.ingest) {
    enter('ingest');
    ingest = await executeChild(ingestWorkflow, {
      ...child,
      workflowId: `${workflowId}/ingest`,
      typedSearchAttributes: childAttributes('ingest'),
      args: [
        { lake: input.lake, actor: input.actor, from: input.ingest.from, to: input.ingest.to, bucketCount: input.bucketCount, quality: input.quality ?? {} },
      ],
    });
    quality.ingest = ingest.quality;
    gate(ingest.quality);
  }

  enter('features');
  const features = await executeChild(featuresWorkflow, {
    ...child,
    workflowId: `${workflowId}/features`,
    typedSearchAttributes: childAttributes('features'),
    args: [{ lake: input.lake, actor: input.actor, dataset: input.dataset, bucketCount: input.bucketCount, quality: input.quality ?? {} }],
  });
  upsertSearchAttributes([{ key: SA_DATASET, value: `${input.dataset}@${features.version}` }]);
  quality.features = features.quality;
  gate(features.quality);

  enter('train');
  const candidates = await executeChild(trainWorkflow, {
    ...child,
    workflowId: `${workflowId}/train`,
    typedSearchAttributes: childAttributes('train'),
    args: [
      {
        lake: input.lake,
        model: input.model,
        dataset: input.dataset,
        featuresVersion: features.version,
        families: input.families,
        hyperparameters: input.hyperparameters ?? {},
        testFraction: input.testFraction ?? DEFAULT_TEST_FRACTION,
        seed: input.seed ?? 1,
        versionStamp: versionStamp(workflowInfo().startTime.getTime()),
        codeVersion: input.codeVersion ?? 'unknown',
        ...(input.trainingHeartbeatSeconds ? { heartbeatSeconds: input.trainingHeartbeatSeconds } : {}),
        dataQuality: quality,
      },
    ],
  });
  progress.candidates = candidates.length;

  enter('promote');
  const best = candidates.reduce<CandidateResult>((a, b) => (b.metrics.rocAuc > a.metrics.rocAuc ? b : a), candidates[0] as CandidateResult);
  const promotion = await promoteUnderLock({
    lake: input.lake,
    model: input.model,
    version: best.version,
    gate: { ...DEFAULT_GATE, ...input.gate },
    workflowId,
    actor: input.actor,
  });
  enter('done');
  const result = { ingest, features, quality, candidates, best, promotion };
  upsertMemo({ summary: retrainSummary(input, result) });
  return result;
}
