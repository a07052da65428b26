/**
 * Batch scoring (scoreWorkflow's activities): `planScoring` fixes the model version (the champion
 * unless pinned), the feature dataset version and the decision threshold; `scoreBucket` scores one
 * feature shard with the registered version's own preprocessing pipeline and predictor
 * (activities/registry/load-model.ts, as the gate's re-scoring does) and writes
 * `scores/<model>/<version>/<dataset version>/bucket=BBB.parquet`; `writeScoreManifest` lists them.
 *
 * Every stay of the shard is scored, censored ones included: the newest discharges, whose 30 days
 * have not passed, are the ones a care manager's list is for. Idempotent: a bucket whose file and
 * sidecar (`bucket=BBB.json`, written after the file) are there for the same threshold is not
 * written again, and the manifest is written only when its content changes, so a rerun writes
 * nothing. The file's bytes depend only on the inputs (no timestamps).
 */
import { createHash } from 'node:crypto';
import { Table } from 'apache-arrow';
import { InvalidInputError, NotFoundError } from '../../core/errors.js';
import { bucketLabel, lake } from '../../data-lake/layout.js';
import type { ScoreBucketInput, ScoreBucketResult, ScoreInput, ScorePlan, ScoreResult } from '../../schemas/score.js';
import { type ActivityDeps, heartbeat, readJson, writeJson } from '../context.js';
import type { FeatureManifest } from '../features/manifest-format.js';
import { CENSORED_COLUMN } from '../features/schema.js';
import { float64Vector, int32Vector, stringValues, utf8Vector } from '../io/arrow-columns.js';
import type { ObjectStore } from '../io/object-store.js';
import { intOrFloatToFloat64, readParquet, writeParquet } from '../io/parquet.js';
import { readAlias } from '../registry/aliases.js';
import { decisionThreshold } from '../registry/decision-threshold.js';
import { type LoadedModel, loadRegisteredModel } from '../registry/load-model.js';
import { readMetadata } from '../registry/metadata.js';
import { featureColumnsOf } from '../train/feature-set.js';

/** Bump when the scores' columns or their computation change: a sidecar of another version is rewritten. */
export const SCORE_CODE_VERSION = 'score-1';

interface Sidecar {
  scoreCodeVersion: string;
  threshold: number;
  rows: number;
  flagged: number;
  sha256: string;
}

export interface ScoreManifest extends Omit<ScorePlan, 'lake' | 'buckets'> {
  scoreCodeVersion: string;
  rows: number;
  flagged: number;
  shards: { bucket: number; key: string; rows: number; flagged: number; sha256: string }[];
}

const sidecarKey = (input: ScoreBucketInput) =>
  lake.scoresPrefix(input.model, input.version, input.datasetVersion) + `bucket=${bucketLabel(input.bucket)}.json`;

export async function planScoring(deps: ActivityDeps, input: ScoreInput): Promise<ScorePlan> {
  const store = deps.lake(input.lake);
  const version = input.version ?? (await readAlias(store, input.model)).doc?.version;
  if (!version) throw new NotFoundError(`score: model ${input.model} has no champion; pin a version with --version`);
  const metadata = await readMetadata(store, input.model, version);
  if (!metadata) throw new NotFoundError(`score: model ${input.model} has no version ${version}`);
  const dataset = input.dataset ?? metadata.trainingData.dataset;
  const datasetVersion = input.datasetVersion ?? (await readJson<{ version: string }>(store, lake.featureLatest(dataset)))?.version;
  if (!datasetVersion) throw new NotFoundError(`score: feature dataset ${dataset} has no version yet; build the features first`);
  const manifest = await readJson<FeatureManifest>(store, lake.featureManifest(dataset, datasetVersion));
  if (!manifest) throw new NotFoundError(`score: no manifest for ${dataset}@${datasetVersion}`);
  const given = input.threshold;
  if (given !== undefined && !(given >= 0 && given <= 1)) throw new InvalidInputError(`score: threshold must be a probability from 0 to 1, got ${given}`);
  const chosen = given === undefined ? await decisionThreshold(store, metadata) : { threshold: given, source: 'given' };
  return {
    lake: input.lake,
    model: input.model,
    version,
    dataset,
    datasetVersion,
    threshold: chosen.threshold,
    thresholdSource: chosen.source,
    buckets: manifest.shards.map((s) => s.bucket),
  };
}

/** Loaded versions per worker process: versions are immutable, and every bucket of a run needs the same one. */
const loaded = new Map<string, Promise<LoadedModel>>();
function loadCached(store: ObjectStore, model: string, version: string): Promise<LoadedModel> {
  const key = `${store.uri}|${model}|${version}`;
  let p = loaded.get(key);
  if (!p) {
    if (loaded.size >= 8) loaded.delete(loaded.keys().next().value!);
    p = loadRegisteredModel(store, model, version);
    p.catch(() => loaded.delete(key));
    loaded.set(key, p);
  }
  return p;
}

/** The stay's row key in the scores: the same for the same model version, dataset version and stay. */
export function scoreKey(input: Pick<ScoreBucketInput, 'model' | 'version' | 'datasetVersion'>, encounterId: string | null): string {
  return createHash('sha256')
    .update(`${input.model}\0${input.version}\0${input.datasetVersion}\0${encounterId ?? ''}`)
    .digest('hex')
    .slice(0, 32);
}

export async function scoreBucket(deps: ActivityDeps, input: ScoreBucketInput): Promise<ScoreBucketResult> {
  const store = deps.lake(input.lake);
  const key = lake.scoreShard(input.model, input.version, input.datasetVersion, input.bucket);
  const done = await readJson<Sidecar>(store, sidecarKey(input));
  if (done && done.scoreCodeVersion === SCORE_CODE_VERSION && done.threshold === input.threshold && (await store.head(key))) {
    return { bucket: input.bucket, key, rows: done.rows, flagged: done.flagged, written: false };
  }
  heartbeat({ step: 'load', bucket: input.bucket });
  const model = await loadCached(store, input.model, input.version);
  const shardKey = lake.featureShard(input.dataset, input.datasetVersion, input.bucket);
  const table = readParquet(await store.get(shardKey), { source: shardKey });
  const n = table.numRows;
  const all = Array.from({ length: n }, (_, i) => i);
  heartbeat({ step: 'score', bucket: input.bucket, rows: n });
  const p = n > 0 ? model.score(featureColumnsOf(table, all), Uint32Array.from(all)) : new Float64Array(0);
  const encounters = stringValues(table.getChild('encounter_id'), n);
  const censoredVector = table.getChild(CENSORED_COLUMN);
  const censored = censoredVector ? intOrFloatToFloat64(censoredVector, CENSORED_COLUMN) : new Float64Array(n);
  const flagged = Int32Array.from(p, (v) => (v >= input.threshold ? 1 : 0));
  const bytes = writeParquet(
    new Table({
      patient_key: utf8Vector(stringValues(table.getChild('patient_key'), n)),
      encounter_id: utf8Vector(encounters),
      probability: float64Vector(p),
      flagged: int32Vector(flagged),
      censored: int32Vector(Int32Array.from(censored, (v) => (v === 1 ? 1 : 0))),
      score_key: utf8Vector(encounters.map((e) => scoreKey(input, e))),
    }),
  );
  await store.put(key, bytes);
  const sidecar: Sidecar = {
    scoreCodeVersion: SCORE_CODE_VERSION,
    threshold: input.threshold,
    rows: n,
    flagged: flagged.reduce((s, v) => s + v, 0),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeJson(store, sidecarKey(input), sidecar);
  return { bucket: input.bucket, key, rows: n, flagged: sidecar.flagged, written: true };
}

/** The manifest of a finished run, from the buckets' sidecars; written only when it changed. */
export async function writeScoreManifest(deps: ActivityDeps, plan: ScorePlan & { bucketsWritten: number }): Promise<ScoreResult> {
  const store = deps.lake(plan.lake);
  const shards: ScoreManifest['shards'] = [];
  for (const bucket of plan.buckets) {
    const input = { ...plan, bucket };
    const s = await readJson<Sidecar>(store, sidecarKey(input));
    if (!s) throw new NotFoundError(`score: bucket ${bucket} of ${plan.model} ${plan.version} has no scores yet`);
    shards.push({ bucket, key: lake.scoreShard(plan.model, plan.version, plan.datasetVersion, bucket), rows: s.rows, flagged: s.flagged, sha256: s.sha256 });
  }
  const manifest: ScoreManifest = {
    scoreCodeVersion: SCORE_CODE_VERSION,
    model: plan.model,
    version: plan.version,
    dataset: plan.dataset,
    datasetVersion: plan.datasetVersion,
    threshold: plan.threshold,
    thresholdSource: plan.thresholdSource,
    rows: shards.reduce((s, x) => s + x.rows, 0),
    flagged: shards.reduce((s, x) => s + x.flagged, 0),
    shards,
  };
  const manifestKey = lake.scoreManifest(plan.model, plan.version, plan.datasetVersion);
  const text = JSON.stringify(manifest, null, 2) + '\n';
  const previous = (await store.head(manifestKey)) ? new TextDecoder().decode(await store.get(manifestKey)) : undefined;
  if (previous !== text) await store.put(manifestKey, text, { contentType: 'application/json' });
  return {
    model: plan.model,
    version: plan.version,
    dataset: plan.dataset,
    datasetVersion: plan.datasetVersion,
    threshold: plan.threshold,
    thresholdSource: plan.thresholdSource,
    manifestKey,
    buckets: shards.length,
    rows: manifest.rows,
    flagged: manifest.flagged,
    bucketsWritten: plan.bucketsWritten,
    manifestWritten: previous !== text,
  };
}
