/**
 * scoreWorkflow's input, plan and result (issue 14 item 7). Payloads carry names, keys and counts
 * only, never rows or PHI. Workflow-safe: types only.
 */
import type { Identity } from '../core/identity/roles.js';
import type { Trigger } from './workflows.js';

export interface ScoreInput {
  /** Who asks (needs `predict`; a schedule acts as whoever created or updated it). */
  actor: Identity;
  lake: string;
  model: string;
  /** A pinned model version; absent: the champion at the time the run plans. */
  version?: string;
  /** The feature dataset to score; absent: the one the model version trained on. */
  dataset?: string;
  /** The feature dataset version; absent: the dataset's latest. */
  datasetVersion?: string;
  /** Flag stays at or above this probability; absent: the model version's decision threshold (activities/registry/decision-threshold.ts). */
  threshold?: number;
  trigger?: Trigger;
  /** Bucket activities in flight at once (default 16). */
  maxInFlight?: number;
  /** History events after which the run continues as new (default 4,000). */
  historyLimit?: number;
  /** Set by continue-as-new: the plan and how far the buckets got. */
  cursor?: { plan: ScorePlan; next: number; runs: number; written: number };
}

/** What a run scores, fixed once at its start so every bucket uses the same model version and threshold. */
export interface ScorePlan {
  lake: string;
  model: string;
  version: string;
  dataset: string;
  datasetVersion: string;
  threshold: number;
  /** Where the threshold came from: "given", "metadata" or "max-f1 on predictions.parquet". */
  thresholdSource: string;
  buckets: number[];
}

export interface ScoreBucketInput extends Omit<ScorePlan, 'buckets' | 'thresholdSource'> {
  bucket: number;
}

export interface ScoreBucketResult {
  bucket: number;
  key: string;
  rows: number;
  flagged: number;
  /** False when the bucket's scores were already there from an earlier run (nothing written). */
  written: boolean;
}

export interface ScoreResult {
  model: string;
  version: string;
  dataset: string;
  datasetVersion: string;
  threshold: number;
  thresholdSource: string;
  manifestKey: string;
  buckets: number;
  rows: number;
  flagged: number;
  /** Buckets written by this run (0 for a rerun). */
  bucketsWritten: number;
  manifestWritten: boolean;
}
