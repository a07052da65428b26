/**
 * A model version's decision threshold: the probability at or above which a stay is flagged. The
 * version's metadata may record one (`decisionThreshold`); otherwise it is the threshold that
 * maximises F1 on the version's own held-out predictions (predictions.parquet), the highest such
 * score on ties. Deterministic for a version, so batch scoring and serving agree.
 */
import { InvalidInputError } from '../../core/errors.js';
import { lake } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';
import { intOrFloatToFloat64, readParquet } from '../io/parquet.js';
import type { ModelMetadata } from './metadata.js';

export interface DecisionThreshold {
  threshold: number;
  source: 'metadata' | 'max-f1 on predictions.parquet';
}

/** The score threshold with the best F1 over (score, label) pairs: flag every score >= it. */
export function maxF1Threshold(scores: Float64Array, labels: Float64Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  const positives = labels.reduce((s, v) => s + (v === 1 ? 1 : 0), 0);
  let tp = 0;
  let best = -1;
  let threshold = 0.5;
  for (let k = 0; k < order.length; k++) {
    tp += labels[order[k]!] === 1 ? 1 : 0;
    // Only where the score changes: a threshold flags every row with its score.
    if (k + 1 < order.length && scores[order[k + 1]!] === scores[order[k]!]) continue;
    const f1 = (2 * tp) / (k + 1 + positives);
    if (f1 > best) {
      best = f1;
      threshold = scores[order[k]!]!;
    }
  }
  return threshold;
}

/** The threshold the version's metadata records, when it records a probability. */
export function recordedThreshold(metadata: ModelMetadata): number | undefined {
  const recorded = (metadata as ModelMetadata & { decisionThreshold?: unknown }).decisionThreshold;
  return typeof recorded === 'number' && recorded >= 0 && recorded <= 1 ? recorded : undefined;
}

export async function decisionThreshold(store: ObjectStore, metadata: ModelMetadata): Promise<DecisionThreshold> {
  const recorded = recordedThreshold(metadata);
  if (recorded !== undefined) return { threshold: recorded, source: 'metadata' };
  const key = lake.registryFile(metadata.name, metadata.version, 'predictions.parquet');
  const table = readParquet(await store.get(key), { source: key });
  const score = table.getChild('score');
  const label = table.getChild('label');
  if (!score || !label) throw new InvalidInputError(`registry: ${key} has no score or label column`);
  return { threshold: maxF1Threshold(intOrFloatToFloat64(score, 'score'), intOrFloatToFloat64(label, 'label')), source: 'max-f1 on predictions.parquet' };
}
