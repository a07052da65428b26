/**
 * The activity factory: every activity bound to its dependencies. Workflows import the type
 * only (`import type { Activities }`), the worker registers the functions.
 */
import type { ActivityDeps } from './context.js';
import { compactBucket, type CompactBucketInput } from './curated/compact-bucket.js';
import { finishCompaction, type FinishCompactionInput } from './curated/compaction-finish.js';
import { planCompaction, type PlanCompactionInput } from './curated/compaction-plan.js';
import { buildFeatureShard, type BuildFeatureShardInput } from './features/build-shard.js';
import { fitFeatureShard, type FitFeatureShardInput, type FitSplit, listFeatureShards, mergeFeatureFit } from './features/fit.js';
import { writeFeatureManifest, type WriteFeatureManifestInput } from './features/manifest.js';
import { planFeatureBuild, type PlanFeatureBuildInput, readFeaturePlanPage, type ReadFeaturePlanPageInput } from './features/plan.js';
import { writeIngestManifests, type WriteIngestManifestsInput } from './ingest/day-manifests.js';
import { ingestFile, type IngestFileInput, ingestFiles, type IngestFilesInput } from './ingest/ingest-file.js';
import { listRawFiles, type ListRawFilesInput } from './ingest/list-raw.js';
import { checkFeatureQuality, type CheckFeatureQualityInput } from './quality/feature-quality.js';
import { checkIngestQuality, type CheckIngestQualityInput } from './quality/ingest-quality.js';
import { promoteCandidate, type PromoteCandidateInput } from './registry/promote.js';
import { planScoring, scoreBucket, writeScoreManifest } from './score/score.js';
import type { ScoreBucketInput, ScoreInput, ScorePlan } from '../schemas/score.js';
import { type ExploreInput, latestFeatureVersion, profileFeatureShard, type ProfileShardInput, writeDatasetProfile } from './reports/explore.js';
import { trainCandidate, type TrainCandidateInput } from './train/train-candidate.js';
import { trainSubForest, type TrainSubForestInput } from './train/trees/subforest.js';

export function createActivities(deps: ActivityDeps) {
  return {
    listRawFiles: (input: ListRawFilesInput) => listRawFiles(deps, input),
    ingestFile: (input: IngestFileInput) => ingestFile(deps, input),
    ingestFiles: (input: IngestFilesInput) => ingestFiles(deps, input),
    writeIngestManifests: (input: WriteIngestManifestsInput) => writeIngestManifests(deps, input),
    planCompaction: (input: PlanCompactionInput) => planCompaction(deps, input),
    compactBucket: (input: CompactBucketInput) => compactBucket(deps, input),
    finishCompaction: (input: FinishCompactionInput) => finishCompaction(deps, input),
    planFeatureBuild: (input: PlanFeatureBuildInput) => planFeatureBuild(deps, input),
    buildFeatureShard: (input: BuildFeatureShardInput) => buildFeatureShard(deps, input),
    readFeaturePlanPage: (input: ReadFeaturePlanPageInput) => readFeaturePlanPage(deps, input),
    writeFeatureManifest: (input: WriteFeatureManifestInput) => writeFeatureManifest(deps, input),
    listFeatureShards: (input: Omit<FitSplit, 'testFraction' | 'seed'>) => listFeatureShards(deps, input),
    fitFeatureShard: (input: FitFeatureShardInput) => fitFeatureShard(deps, input),
    mergeFeatureFit: (input: FitSplit) => mergeFeatureFit(deps, input),
    trainCandidate: (input: TrainCandidateInput) => trainCandidate(deps, input),
    trainSubForest: (input: TrainSubForestInput) => trainSubForest(deps, input),
    promoteCandidate: (input: PromoteCandidateInput) => promoteCandidate(deps, input),
    checkIngestQuality: (input: CheckIngestQualityInput) => checkIngestQuality(deps, input),
    checkFeatureQuality: (input: CheckFeatureQualityInput) => checkFeatureQuality(deps, input),
    planScoring: (input: ScoreInput) => planScoring(deps, input),
    scoreBucket: (input: ScoreBucketInput) => scoreBucket(deps, input),
    writeScoreManifest: (input: ScorePlan & { bucketsWritten: number }) => writeScoreManifest(deps, input),
    profileFeatureShard: (input: ProfileShardInput) => profileFeatureShard(deps, input),
    writeDatasetProfile: (input: ExploreInput) => writeDatasetProfile(deps, input),
    latestFeatureVersion: (input: Omit<ExploreInput, 'version'>) => latestFeatureVersion(deps, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
