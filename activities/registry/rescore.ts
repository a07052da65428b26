/**
 * The gate's fair comparison: the champion and the challenger scored on the same held-out
 * patients (the challenger's test split of the challenger's feature dataset), overall and per
 * subgroup (sex, race, age band). Recorded numbers on different test sets are not comparable.
 */
import { groupValues, SUBGROUP_ATTRIBUTES } from '../evaluate/evaluate.js';
import { rocAuc } from '../evaluate/metrics.js';
import type { ObjectStore } from '../io/object-store.js';
import { loadFeatureSet, splitByPatient } from '../train/feature-set.js';
import { loadRegisteredModel } from './load-model.js';
import type { ModelMetadata, SubgroupComparison } from './metadata.js';

export interface Rescored {
  rows: number;
  challengerRocAuc: number;
  championRocAuc: number;
  subgroups: SubgroupComparison[];
}

const aucOrNull = (scores: Float64Array, labels: Uint8Array) => {
  const v = rocAuc(scores, labels);
  return Number.isNaN(v) ? null : v;
};

export async function rescoreOnChallengerTestSet(store: ObjectStore, challenger: ModelMetadata, championVersion: string): Promise<Rescored> {
  const data = await loadFeatureSet(store, challenger.trainingData.dataset, challenger.trainingData.version);
  const { test } = splitByPatient(data.patientKeys, challenger.split.testFraction, challenger.split.seed);
  const labels = Uint8Array.from(test, (r) => data.labels[r]!);
  const [mine, theirs] = await Promise.all([
    loadRegisteredModel(store, challenger.name, challenger.version),
    loadRegisteredModel(store, challenger.name, championVersion),
  ]);
  const a = mine.score(data.columns, test);
  const b = theirs.score(data.columns, test);
  const subgroups: SubgroupComparison[] = [];
  for (const attribute of SUBGROUP_ATTRIBUTES) {
    const groups = groupValues(data.columns, test, attribute);
    if (!groups) continue;
    const rowsOf = new Map<string, number[]>();
    groups.forEach((g, i) => rowsOf.set(g, [...(rowsOf.get(g) ?? []), i]));
    for (const [group, idx] of [...rowsOf].sort(([x], [y]) => x.localeCompare(y))) {
      const y = Uint8Array.from(idx, (i) => labels[i]!);
      subgroups.push({
        attribute,
        group,
        count: idx.length,
        positives: y.reduce((s, v) => s + v, 0),
        challengerRocAuc: aucOrNull(
          Float64Array.from(idx, (i) => a[i]!),
          y,
        ),
        championRocAuc: aucOrNull(
          Float64Array.from(idx, (i) => b[i]!),
          y,
        ),
      });
    }
  }
  return { rows: test.length, challengerRocAuc: rocAuc(a, labels), championRocAuc: rocAuc(b, labels), subgroups };
}
