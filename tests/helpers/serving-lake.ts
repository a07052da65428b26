/**
 * A generated lake with registered model versions, built in-process (no Temporal): raw files,
 * ingest, features, and `trainCandidate` per version, the champion alias moved by the same
 * `moveAlias` the promotion activity uses. For the serving tests.
 */
import { rmSync } from 'node:fs';
import { buildLakeFeatures } from '../../activities/features/local-build.js';
import type { ObjectStore } from '../../activities/io/object-store.js';
import { moveAlias, readAlias } from '../../activities/registry/aliases.js';
import { trainCandidate } from '../../activities/train/train-candidate.js';
import type { ActivityDeps } from '../../activities/context.js';
import { writeRawLake } from '../../data-lake/generator/index.js';
import type { ModelFamily } from '../../schemas/workflows.js';
import { ingestAll, localLake } from './features-lake.js';

export interface ServingLake {
  deps: ActivityDeps & { close(): void };
  store: ObjectStore;
  lakeUri: string;
  dir: string;
  dataset: string;
  featuresVersion: string;
  /** Registered versions, by the name given. */
  versions: Record<string, string>;
  cleanup(): void;
}

export interface VersionSpec {
  key: string;
  family: ModelFamily;
  hyperparameters?: Record<string, number>;
}

export const MODEL = 'readmission';

export async function servingLake(name: string, specs: VersionSpec[], options: { patients?: number; days?: number; seed?: number } = {}): Promise<ServingLake> {
  const local = localLake(name);
  const store = local.deps.lake(local.lakeUri);
  await writeRawLake(store, { patients: options.patients ?? 400, days: options.days ?? 33, seed: options.seed ?? 41 });
  await ingestAll(local.deps, local.lakeUri, 4);
  const build = await buildLakeFeatures(store, { dataset: 'readmission', bucketCount: 4, pseudonymKeyId: local.deps.keys.pseudonym.activeId });
  const versions: Record<string, string> = {};
  for (const [i, spec] of specs.entries()) {
    const version = `20261203T00000${i}Z-${spec.family}`;
    await trainCandidate(local.deps, {
      lake: local.lakeUri,
      model: MODEL,
      dataset: 'readmission',
      featuresVersion: build.version,
      family: spec.family,
      version,
      hyperparameters: spec.hyperparameters ?? {},
      testFraction: 0.3,
      seed: 7,
      codeVersion: 'test',
    });
    versions[spec.key] = version;
  }
  return {
    deps: local.deps,
    store,
    lakeUri: local.lakeUri,
    dir: local.dir,
    dataset: 'readmission',
    featuresVersion: build.version,
    versions,
    cleanup: () => {
      local.deps.close();
      rmSync(local.dir, { recursive: true, force: true });
    },
  };
}

/** Moves the champion alias as a promotion does (conditional write on the alias as read). */
export async function setChampion(store: ObjectStore, version: string, movedBy = 'test'): Promise<void> {
  await moveAlias(store, MODEL, await readAlias(store, MODEL), version, movedBy);
}
