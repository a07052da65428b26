/** model_metadata.yaml: the lineage and results of one model version. */
import { parse, stringify } from 'yaml';
import { lake } from '../../data-lake/layout.js';
import type { GateSettings, Hyperparameters, ModelFamily } from '../../schemas/workflows.js';
import type { ObjectStore } from '../io/object-store.js';

export interface GateDecision {
  decision: 'promoted' | 'rejected';
  reason: string;
  subgroupDrops: string[];
  decidedAt: string;
  champion: string | null;
  /** Both models on the same held-out stays (`rescored`), or each on its own (`recorded`, with why). */
  comparison: { basis: 'rescored' | 'recorded'; rows: number | null; note: string | null; challengerRocAuc: number; championRocAuc: number } | null;
  subgroups: SubgroupComparison[];
  /** The challenger's own test metrics. */
  challengerRocAuc: number;
  challengerEce: number;
  settings: GateSettings;
}

export interface SubgroupComparison {
  attribute: string;
  group: string;
  count: number;
  positives: number;
  challengerRocAuc: number | null;
  championRocAuc: number | null;
}

export interface ModelMetadata {
  name: string;
  version: string;
  family: ModelFamily;
  created: string;
  codeVersion: string;
  backend: string;
  trainingData: { dataset: string; version: string; manifestKey: string; manifestSha256: string; rows: number; positives: number };
  split: { by: 'patient'; testFraction: number; seed: number; trainRows: number; testRows: number };
  pipelineSha256: string;
  hyperparameters: Hyperparameters;
  trainSeconds: number;
  metrics: { rocAuc: number; prAuc: number; brier: number; logLoss: number; ece: number; testRows: number; testPositives: number };
  subgroupMetrics: Record<string, { group: string; count: number; positives: number; rocAuc: number | null; brier: number; ece: number }[]>;
  /** Permutation importance on the held-out stays: mean ROC AUC drop when the feature is shuffled. */
  featureImportance?: { feature: string; importance: number; std: number }[];
  gate?: GateDecision;
  /** The data-quality gate on the data this version trained on: breaches, and the reason one was accepted. */
  dataQuality?: { passed: boolean; breaches: string[]; acceptedBreach?: string; baselineVersion: string | null };
}

export async function readMetadata(store: ObjectStore, model: string, version: string): Promise<ModelMetadata | undefined> {
  const key = lake.registryFile(model, version, 'model_metadata.yaml');
  if (!(await store.head(key))) return undefined;
  return parse(new TextDecoder().decode(await store.get(key))) as ModelMetadata;
}

export async function writeMetadata(store: ObjectStore, metadata: ModelMetadata): Promise<void> {
  const key = lake.registryFile(metadata.name, metadata.version, 'model_metadata.yaml');
  await store.put(key, stringify(metadata, { lineWidth: 0 }), { contentType: 'application/yaml' });
}
