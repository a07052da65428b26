/**
 * The dataset manifest's format (`features/<dataset>/<version>/manifest.json`): a leaf module, so
 * the planner (which reads the previous version's manifest) and the manifest writer (which reads
 * the plan) need not import each other.
 */

/** A per-day ingest manifest a version was planned from, with its SHA-256. */
export interface SourceManifest {
  key: string;
  sha256: string;
}

export interface FeatureManifest {
  dataset: string;
  version: string;
  featureCodeVersion: string;
  createdAt: string;
  bucketCount: number;
  dataEnd: string;
  rows: number;
  positives: number;
  censored: number;
  labelledRows: number;
  labelledPositives: number;
  /** labelledPositives / labelledRows: the rate training sees. */
  labelRate: number;
  /** The dataset's newest version when this one was first written: the data-quality gate's baseline. */
  previousVersion?: string;
  features: { numeric: readonly string[]; categorical: readonly string[] };
  sources: { ingestManifests: SourceManifest[] };
  shards: {
    bucket: number;
    key: string;
    inputHash: string;
    rows: number;
    positives: number;
    censored: number;
    labelledPositives: number;
    reusedFrom?: string;
  }[];
}
