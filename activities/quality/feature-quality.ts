/**
 * The features half of the data-quality gate: a feature version against absolute bounds (enough
 * labelled stays, a plausible label rate) and against the dataset's previous version (index stays
 * did not drop, the label rate and each feature's null rate did not move past their limits). Each
 * version's profile (counts and null rates per feature, from the Arrow validity of its shards) is
 * written beside it once, so the next version compares against it without re-reading it.
 */
import { lake } from '../../data-lake/layout.js';
import type { FeatureQualityReport, IngestQualityReport, QualityBreach, QualityLimits } from '../../schemas/quality.js';
import { mapBounded } from '../../core/map-bounded.js';
import type { DayManifest } from '../ingest/day-manifests.js';
import { judgeIngest } from './ingest-quality.js';
import { type ActivityDeps, pauseActivity, readJson, writeJson } from '../context.js';
import type { FeatureManifest } from '../features/manifest-format.js';
import { CATEGORICAL_FEATURES, NUMERIC_FEATURES } from '../features/schema.js';
import type { ObjectStore } from '../io/object-store.js';
import { readParquet } from '../io/parquet.js';
import { NotFoundError } from '../../core/errors.js';

export interface FeatureProfile {
  version: string;
  indexStays: number;
  labelledStays: number;
  labelRate: number;
  /** Null share of each feature over all index stays. */
  nullRates: Record<string, number>;
}

export interface CheckFeatureQualityInput {
  lake: string;
  dataset: string;
  version: string;
  limits: QualityLimits;
}

const FEATURES = [...NUMERIC_FEATURES, ...CATEGORICAL_FEATURES];
const profileKey = (dataset: string, version: string) => `${lake.featureVersionPrefix(dataset, version)}profile.json`;

async function manifestOf(store: ObjectStore, dataset: string, version: string): Promise<FeatureManifest> {
  const m = await readJson<FeatureManifest>(store, lake.featureManifest(dataset, version));
  if (!m) throw new NotFoundError(`quality: no feature manifest at ${lake.featureManifest(dataset, version)}`);
  return m;
}

/** The version's profile, computed from its shards the first time and read back after. */
export async function featureProfile(store: ObjectStore, dataset: string, version: string): Promise<FeatureProfile> {
  const key = profileKey(dataset, version);
  const done = await readJson<FeatureProfile>(store, key);
  if (done) return done;
  const manifest = await manifestOf(store, dataset, version);
  const nulls = new Map(FEATURES.map((f) => [f, 0]));
  for (const shard of manifest.shards) {
    const table = readParquet(await store.get(shard.key), { source: shard.key });
    for (const f of FEATURES) nulls.set(f, nulls.get(f)! + (table.getChild(f)?.nullCount ?? table.numRows));
    await pauseActivity({ step: 'profile', shard: shard.bucket });
  }
  const profile: FeatureProfile = {
    version,
    indexStays: manifest.rows,
    labelledStays: manifest.labelledRows,
    labelRate: manifest.labelRate,
    nullRates: Object.fromEntries(FEATURES.map((f) => [f, manifest.rows > 0 ? nulls.get(f)! / manifest.rows : 0])),
  };
  await writeJson(store, key, profile);
  return profile;
}

export function judgeFeatures(
  current: FeatureProfile,
  baseline: FeatureProfile | null,
  curated: IngestQualityReport,
  limits: QualityLimits,
): FeatureQualityReport {
  // Lake-wide reject and quarantine rates of the curated days behind the version (per-day ones are ingest's).
  const breaches: QualityBreach[] = curated.breaches.filter((b) => b.check !== 'day_reject_rate');
  const breach = (b: Omit<QualityBreach, 'stage'>) => breaches.push({ stage: 'features', ...b });
  if (current.labelledStays < limits.minLabelledStays) {
    breach({ check: 'labelled_stays', value: current.labelledStays, limit: limits.minLabelledStays, limitName: 'minLabelledStays' });
  }
  if (current.labelledStays > 0 && current.labelRate < limits.minLabelRate) {
    breach({ check: 'label_rate', value: current.labelRate, limit: limits.minLabelRate, limitName: 'minLabelRate' });
  }
  if (current.labelRate > limits.maxLabelRate) breach({ check: 'label_rate', value: current.labelRate, limit: limits.maxLabelRate, limitName: 'maxLabelRate' });
  const changes: FeatureQualityReport['nullRateChanges'] = [];
  if (baseline) {
    const drop = baseline.indexStays > 0 ? (baseline.indexStays - current.indexStays) / baseline.indexStays : 0;
    if (drop > limits.maxIndexStayDrop) breach({ check: 'index_stay_drop', value: drop, limit: limits.maxIndexStayDrop, limitName: 'maxIndexStayDrop' });
    const labelChange = Math.abs(current.labelRate - baseline.labelRate);
    if (baseline.labelledStays > 0 && labelChange > limits.maxLabelRateChange) {
      breach({ check: 'label_rate_change', value: labelChange, limit: limits.maxLabelRateChange, limitName: 'maxLabelRateChange' });
    }
    for (const f of FEATURES) {
      const rate = current.nullRates[f] ?? 1;
      const baselineRate = baseline.nullRates[f];
      if (baselineRate === undefined) continue; // a feature the baseline did not have
      changes.push({ feature: f, rate, baselineRate });
      if (Math.abs(rate - baselineRate) > limits.maxNullRateChange) {
        breach({
          check: 'null_rate_change',
          subject: f,
          value: Math.abs(rate - baselineRate),
          limit: limits.maxNullRateChange,
          limitName: 'maxNullRateChange',
        });
      }
    }
  }
  changes.sort((a, b) => Math.abs(b.rate - b.baselineRate) - Math.abs(a.rate - a.baselineRate) || (a.feature < b.feature ? -1 : 1));
  return {
    stage: 'features',
    passed: breaches.length === 0,
    limits,
    version: current.version,
    baselineVersion: baseline?.version ?? null,
    indexStays: current.indexStays,
    labelledStays: current.labelledStays,
    labelRate: current.labelRate,
    baseline: baseline ? { indexStays: baseline.indexStays, labelRate: baseline.labelRate } : null,
    curated: curated.tables,
    nullRateChanges: changes.slice(0, 5),
    breaches,
  };
}

export async function checkFeatureQuality(deps: ActivityDeps, input: CheckFeatureQualityInput): Promise<FeatureQualityReport> {
  const store = deps.lake(input.lake);
  const manifest = await manifestOf(store, input.dataset, input.version);
  const current = await featureProfile(store, input.dataset, input.version);
  const baseline = manifest.previousVersion
    ? await featureProfile(store, input.dataset, manifest.previousVersion).catch((err: unknown) => {
        // A baseline deleted since is no baseline; anything else (a store fault) is retried.
        if (err instanceof NotFoundError) return null;
        throw err;
      })
    : null;
  const days = await mapBounded(manifest.sources.ingestManifests, 16, async ({ key }, i) => {
    if (i % 200 === 199) await pauseActivity({ step: 'read day manifests', read: i });
    return readJson<DayManifest>(store, key);
  });
  const curated = judgeIngest(
    days.filter((d): d is DayManifest => d !== undefined),
    input.limits,
  );
  return judgeFeatures(current, baseline, curated, input.limits);
}
