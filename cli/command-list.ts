/**
 * The commands, what each is for, and the module that defines it. `carepipe --help` and a usage
 * error list the commands from here alone, so they answer without loading Temporal, the AWS SDK,
 * Arrow or Parquet; running (or asking for the help of) one command loads only that command's
 * module. Each module's register function takes its description from here too.
 */
import type { Command } from 'commander';

export const COMMANDS = {
  stack: 'the local stack: Temporal dev server, versitygw and the codec server',
  worker: 'serve task queues until SIGINT/SIGTERM; in-flight activities get the grace period, then are retried elsewhere',
  'codec-server':
    'serve the codec endpoint through which the Web UI and `temporal workflow show --codec-endpoint` read encrypted history, until SIGINT/SIGTERM',
  generate: "write a synthetic EHR extract into the landing zone (raw/), in the data contract's format, with ground truth beside it",
  ingest: 'run ingestWorkflow: validate, normalise, de-identify and bucket the raw files of a date range into curated/',
  features: 'run featuresWorkflow: one feature shard per patient bucket of the curated zone, reusing unchanged buckets',
  retrain: 'run retrainWorkflow: [ingest ->] features -> train -> evaluate -> gate -> promote',
  schedule: 'Temporal Schedules that start retrainWorkflow: create, list, describe, pause, unpause, trigger, update, backfill, delete',
  backfill: 'run backfillWorkflow: re-ingest a range of ingest dates, rebuild only the feature buckets they touched, optionally retrain',
  lake: 'the lake itself: compact the curated zone (compactWorkflow), count objects and bytes per zone, inspect Parquet footers',
  models: 'the model registry: versions, metrics, the champion alias',
  score: 'run scoreWorkflow: score every stay of a feature dataset version with the champion (or --version), one activity per bucket, into scores/',
  explore: 'run exploreWorkflow: a dataset profile (profile.html, profile.json) of a feature version, per-shard statistics merged',
  demo: 'stack up, worker, synthetic data, one retrain end to end; prints where to look',
  serve: 'serve predictions from the registry over HTTP (v1 and Open Inference Protocol v2), following the champion alias, until SIGINT/SIGTERM',
  audit: 'the audit trail: verify every HMAC-chained stream and its signed head',
} as const;

export type CommandName = keyof typeof COMMANDS;

/** Loads the module of one command and returns its register function. */
export const LOADERS: Record<CommandName, () => Promise<(program: Command) => void>> = {
  stack: async () => (await import('./commands/stack.js')).registerStack,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
  'codec-server': async () => (await import('./commands/codec-server.js')).registerCodecServer,
  generate: async () => (await import('./commands/generate.js')).registerGenerate,
  ingest: async () => (await import('./commands/ingest.js')).registerIngest,
  features: async () => (await import('./commands/features.js')).registerFeatures,
  retrain: async () => (await import('./commands/retrain.js')).registerRetrain,
  schedule: async () => (await import('./commands/schedule/index.js')).registerSchedule,
  backfill: async () => (await import('./commands/backfill.js')).registerBackfill,
  lake: async () => (await import('./commands/lake.js')).registerLake,
  models: async () => (await import('./commands/models.js')).registerModels,
  score: async () => (await import('./commands/score.js')).registerScore,
  explore: async () => (await import('./commands/explore.js')).registerExplore,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
};

export const isCommandName = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(COMMANDS, name);
