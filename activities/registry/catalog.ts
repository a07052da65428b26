/** Read-only views of the registry: models, their versions with headline metrics, the champion. */
import { lake } from '../../data-lake/layout.js';
import type { ObjectStore } from '../io/object-store.js';
import { readAlias } from './aliases.js';
import { type ModelMetadata, readMetadata } from './metadata.js';

export interface VersionSummary {
  version: string;
  family: string;
  created: string;
  rocAuc: number;
  ece: number;
  testRows: number;
  dataset: string;
  gate: string | null;
  champion: boolean;
}

export async function listModels(store: ObjectStore): Promise<string[]> {
  const level = await store.listLevel('registry/');
  return level.prefixes.map((p) => p.slice('registry/'.length, -1)).sort();
}

/** Complete versions (their metadata written), oldest first: version ids sort by creation time. */
export async function listVersions(store: ObjectStore, model: string): Promise<VersionSummary[]> {
  const level = await store.listLevel(lake.registryModelPrefix(model));
  const champion = (await readAlias(store, model)).doc?.version ?? null;
  const versions: VersionSummary[] = [];
  for (const prefix of level.prefixes) {
    const version = prefix.slice(lake.registryModelPrefix(model).length, -1);
    if (version === 'aliases') continue;
    const m = await readMetadata(store, model, version);
    if (!m) continue; // still being trained, or abandoned before its metadata was written
    versions.push(summarize(m, champion));
  }
  return versions.sort((a, b) => a.version.localeCompare(b.version));
}

export function summarize(m: ModelMetadata, champion: string | null): VersionSummary {
  return {
    version: m.version,
    family: m.family,
    created: m.created,
    rocAuc: m.metrics.rocAuc,
    ece: m.metrics.ece,
    testRows: m.metrics.testRows,
    dataset: `${m.trainingData.dataset}@${m.trainingData.version}`,
    gate: m.gate?.decision ?? null,
    champion: m.version === champion,
  };
}
