/**
 * Workflow and activity inputs and outputs. Payloads carry URIs, keys, counts and metrics only:
 * never rows, never PHI. Workflow-safe: types and constants only.
 */
import type { RawTable } from '../data-lake/layout.js';
import type { FeatureQualityReport, IngestQualityReport, QualityLimits, QualityOutcome } from './quality.js';

export type Trigger = 'manual' | 'schedule' | 'backfill';
export const MODEL_FAMILIES = ['logreg', 'mlp', 'rf', 'gbdt'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];
/** Families with a trainer behind them today; the others arrive with their issues. */
export const IMPLEMENTED_FAMILIES: readonly ModelFamily[] = ['logreg', 'mlp', 'gbdt', 'rf'];

// ---- ingest ----------------------------------------------------------------------------------

export interface IngestInput {
  lake: string;
  /** Inclusive ingest-date range (YYYY-MM-DD); both absent means every date in the landing zone. */
  from?: string;
  to?: string;
  tables?: RawTable[];
  bucketCount: number;
  /** Activities in flight at once. */
  maxInFlight?: number;
  /** Raw files of one table curated by one activity (default 16): a raw zone of daily files is thousands of small files. */
  filesPerTask?: number;
  /** Raw keys listed per page (default 250). */
  pageSize?: number;
  /** History events after which the run continues as new between pages (default 4,000). */
  historyLimit?: number;
  /** Data-quality limits to report against (defaults: DEFAULT_QUALITY_LIMITS); ingest reports, the retrain decides. */
  quality?: Partial<QualityLimits>;
  /** Set by continue-as-new: where the previous run stopped, and what it had counted. */
  cursor?: { startAfter: string; totals: IngestTotals; quarantined: string[]; runs: number };
  /** Fold the staged fragments into the curated generations at the end (default true; a backfill compacts once, after all its dates). */
  compact?: boolean;
}

export interface CompactInput {
  lake: string;
  bucketCount: number;
  /** Buckets compacted at once (default 32). */
  maxInFlight?: number;
}

/** What a compaction did: days and files folded, generations written, objects deleted. */
export interface CompactionSummary {
  /** The plan's id; '' when the generations already reflected every ingest day. */
  plan: string;
  dirtyDays: number;
  files: number;
  /** A file's rows of a bucket read from a staged fragment, counted per file and bucket. */
  fragmentsFolded: number;
  /** Table x bucket generations rewritten, and left as they were. */
  generationsWritten: number;
  generationsUnchanged: number;
  /** Files whose rows were carried over from the previous generation rather than read from a fragment. */
  filesReused: number;
  rows: number;
  bytes: number;
  fragmentsDeleted: number;
  generationsDeleted: number;
}

export interface IngestTotals {
  files: number;
  skippedFiles: number;
  quarantinedFiles: number;
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
}

export type IngestFileStatus = 'ingested' | 'skipped' | 'quarantined';

export interface IngestFileResult {
  key: string;
  status: IngestFileStatus;
  rowsIn: number;
  accepted: number;
  corrected: number;
  rejected: number;
  fragments: number;
  /** Error type of a quarantined file (its full reason is in the lake beside the file). */
  reasonType?: string;
}

export interface IngestSummary extends IngestTotals {
  /** Runs of the workflow (1 + continue-as-new count). */
  runs: number;
  /** Keys of quarantined raw files. */
  quarantined: string[];
  manifests: string[];
  /** The compaction that ended the run; null when the run was asked not to compact. */
  compaction: CompactionSummary | null;
  /** The ingested days against the data-quality limits: per table counts, top reject reasons, breaches. */
  quality: IngestQualityReport;
}

export interface RawFilePage {
  /** Files to ingest. */
  keys: string[];
  /** Files of the page their day manifest shows unchanged since they were curated (list-raw.ts). */
  skipped?: IngestFileResult[];
  /** Present when more keys follow. */
  nextStartAfter?: string;
}

// ---- features ---------------------------------------------------------------------------------

export interface FeaturesInput {
  lake: string;
  dataset: string;
  bucketCount: number;
  /** Shard activities in flight at once (default 32). */
  maxInFlight?: number;
  /** Planned buckets read per page (default 256). */
  pageSize?: number;
  /** History events after which the run continues as new between pages (default 4,000). */
  historyLimit?: number;
  /** Data-quality limits to report against (defaults: DEFAULT_QUALITY_LIMITS). */
  quality?: Partial<QualityLimits>;
  /** Heartbeat timeout of the plan and shard activities, seconds (default 60): how soon a lost worker's shard is retried. */
  shardHeartbeatSeconds?: number;
  /** Set by continue-as-new: the plan being built, where the previous run stopped, its counts. */
  cursor?: { plan: FeaturePlanSummary; offset: number; totals: FeatureBuildTotals; rows: number; runs: number; compaction: CompactionSummary };
}

export interface FeatureBuildTotals {
  /** Buckets computed from their curated inputs. */
  built: number;
  /** Buckets whose shard was copied from an earlier version with the same inputs. */
  reused: number;
  /** Buckets already complete in this version (a rerun). */
  present: number;
}

export interface FeaturePlanSummary {
  version: string;
  /** The latest ingest date of encounters (YYYY-MM-DD): the lake is complete before it. */
  dataEnd: string;
  buckets: number;
  /** Buckets an earlier version already built from the same inputs. */
  reusable: number;
}

export interface PlannedBucket {
  bucket: number;
  /** Hash of the bucket's curated fragment keys (content hashes), the data end and the feature code version. */
  inputHash: string;
  /** An earlier version's shard of the same inputs. */
  reuse?: { version: string; key: string };
}

export interface FeatureShardResult {
  bucket: number;
  key: string;
  rows: number;
  positives: number;
  censored: number;
  /** Not computed in this call: already complete, or copied from `reusedFrom`. */
  skipped: boolean;
  reusedFrom?: string;
  /** Lab result rows read (0 when skipped). */
  labRows: number;
}

export interface FeaturesResult {
  dataset: string;
  version: string;
  manifestKey: string;
  dataEnd: string;
  shards: number;
  /** Index stays, all of them. */
  rows: number;
  /** Readmitted index stays, all of them (observed labels). */
  positives: number;
  /** Index stays whose 30 days of follow-up the lake does not show yet: not trained on. */
  censored: number;
  labelledRows: number;
  labelledPositives: number;
  /** Shards not computed by this run (reused, or already complete). */
  skippedShards: number;
  builtShards: number;
  reusedShards: number;
  runs: number;
  /** The compaction run before planning (nothing to do when ingest compacted already). */
  compaction: CompactionSummary;
  /** The version against the data-quality limits and its previous version. */
  quality: FeatureQualityReport;
}

/** A preprocessing pipeline fitted on the training patients of one split of a feature version. */
export interface FeatureFitResult {
  pipelineKey: string;
  mappingKey: string;
  /** Training rows the pipeline saw. */
  rows: number;
  /** Width of the transformed matrix. */
  width: number;
}

/** The fit of a preprocessing pipeline on the training patients of one split (fitWorkflow). */
export interface FitInput {
  lake: string;
  dataset: string;
  featuresVersion: string;
  testFraction: number;
  seed: number;
  /** Shards fitted at once (default 32). */
  maxInFlight?: number;
  /** History events a run may reach before it continues as new (default 4,000). */
  historyLimit?: number;
  /** Set by continue-as-new: the version's shards, the index of the first not yet fitted, and the runs so far. */
  cursor?: { buckets: number[]; next: number; runs: number };
}

// ---- train, evaluate, promote ----------------------------------------------------------------

export type Hyperparameters = Record<string, number | string | boolean>;

export interface TrainInput {
  lake: string;
  model: string;
  dataset: string;
  featuresVersion: string;
  families: ModelFamily[];
  hyperparameters: Partial<Record<ModelFamily, Hyperparameters>>;
  /** Fraction of patients held out for testing, by keyed hash of the patient pseudonym. */
  testFraction: number;
  seed: number;
  /** Sortable stamp shared by the candidates of one run, e.g. 20261128T090000Z. */
  versionStamp: string;
  codeVersion: string;
  /** Heartbeat timeout of training activities (default 120 s): how soon a lost worker's training is retried. */
  heartbeatSeconds?: number;
  /** What the data-quality gate found, recorded in each candidate's metadata (breaches accepted on purpose included). */
  dataQuality?: QualityOutcome;
}

export interface CandidateMetrics {
  rocAuc: number;
  prAuc: number;
  brier: number;
  ece: number;
  testRows: number;
  testPositives: number;
  trainRows: number;
}

export interface CandidateResult {
  family: ModelFamily;
  version: string;
  metrics: CandidateMetrics;
  trainSeconds: number;
  registryPrefix: string;
}

export interface GateSettings {
  /** A challenger may be at most this much worse in test ROC AUC than the champion. */
  aucMargin: number;
  /** Upper bound on the challenger's expected calibration error. */
  maxEce: number;
  /** A subgroup (sex, race, age band) may lose at most this much ROC AUC against the champion... */
  subgroupMargin: number;
  /** ...when it has at least this many held-out stays (smaller groups are too noisy to judge). */
  minSubgroupCount: number;
}

export interface PromotionResult {
  promoted: boolean;
  version: string;
  previousChampion: string | null;
  reason: string;
}

export interface RetrainInput {
  lake: string;
  model: string;
  dataset: string;
  /** Run ingest first over this date range (both bounds optional); absent: use the curated zone as is. */
  ingest?: { from?: string; to?: string };
  families: ModelFamily[];
  hyperparameters?: Partial<Record<ModelFamily, Hyperparameters>>;
  bucketCount: number;
  trigger: Trigger;
  testFraction?: number;
  seed?: number;
  gate?: Partial<GateSettings>;
  codeVersion?: string;
  /** Heartbeat timeout of training activities, seconds (default 120). */
  trainingHeartbeatSeconds?: number;
  /** Data-quality limits (defaults: DEFAULT_QUALITY_LIMITS); a breach stops the run before training... */
  quality?: Partial<QualityLimits>;
  /** ...unless a person accepts it on purpose, with this reason (recorded in the run and the model metadata). */
  acceptQualityBreach?: string;
}

export interface RetrainResult {
  ingest: IngestSummary | null;
  features: FeaturesResult;
  quality: QualityOutcome;
  candidates: CandidateResult[];
  best: CandidateResult;
  promotion: PromotionResult;
}

export type RetrainStage = 'starting' | 'ingest' | 'features' | 'quality' | 'train' | 'promote' | 'done';

export interface RetrainProgress {
  stage: RetrainStage;
  stagesDone: RetrainStage[];
  candidates: number;
  /**
   * The child workflow running the current stage (`<retrain id>/<stage>`, or the model's promotion
   * lock): callers query its own `progress` for shard counts, so the parent's history stays free of
   * per-shard events.
   */
  stageWorkflowId?: string;
}

// ---- backfill ---------------------------------------------------------------------------------

export interface BackfillInput {
  lake: string;
  /** Inclusive ingest-date range (YYYY-MM-DD). */
  from: string;
  to: string;
  dataset: string;
  bucketCount: number;
  /** Only these dates of the range: a resume passes the dates an earlier run failed on. */
  dates?: string[];
  /** Dates (ingest runs) in flight at once (default 4). */
  maxParallelDates?: number;
  /** Retrain a model on the rebuilt features afterwards (its features stage finds every shard built). */
  retrain?: { model: string; families: ModelFamily[]; gate?: Partial<GateSettings>; seed?: number; codeVersion?: string };
  /** The backfill run this one resumes. */
  resumeOf?: string;
  /** History events a run may reach before it continues as new (default 4,000). */
  historyLimit?: number;
  /** Set by continue-as-new: the dates the earlier runs finished (done or failed), and how many runs there were. */
  cursor?: BackfillCursor;
}

/** Where a backfill's chain of runs stands: the first `results.length` dates of its list are finished. */
export interface BackfillCursor {
  results: BackfillDateResult[];
  runs: number;
}

export interface BackfillDateResult {
  date: string;
  status: 'done' | 'failed';
  files: number;
  skippedFiles: number;
  quarantinedFiles: number;
  rowsIn: number;
  /** The failure type of a failed date (its message is in the child run's history). */
  errorType?: string;
}

export type BackfillStage = 'starting' | 'ingest' | 'features' | 'retrain' | 'done';

export interface BackfillProgress {
  stage: BackfillStage;
  datesTotal: number;
  datesDone: number;
  datesFailed: number;
  files: number;
  rowsIn: number;
  /** Children running now (`<backfill id>/ingest/<date>`, `<backfill id>/features`, `<backfill id>/retrain`). */
  running: string[];
}

export interface BackfillResult {
  dates: BackfillDateResult[];
  features: FeaturesResult;
  retrain: RetrainResult | null;
  resumeOf: string | null;
}

/** The details of a failed backfill (failure type `BackfillIncompleteError`): what a resume needs. */
export interface BackfillFailureDetails {
  input: BackfillInput;
  failed: BackfillDateResult[];
  done: string[];
}

export const DEFAULT_GATE: GateSettings = { aucMargin: 0.005, maxEce: 0.1, subgroupMargin: 0.03, minSubgroupCount: 100 };
export const DEFAULT_BUCKET_COUNT = 32;
export const DEFAULT_TEST_FRACTION = 0.2;
