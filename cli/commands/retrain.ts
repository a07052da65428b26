import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { isIngestDate } from '../../data-lake/layout.js';
import {
  DEFAULT_BUCKET_COUNT, type Hyperparameters, IMPLEMENTED_FAMILIES, MODEL_FAMILIES, type ModelFamily, type RetrainInput, type RetrainResult,
} from '../../schemas/workflows.js';
import { codeVersion } from '../code-version.js';
import { action, printJson, RunFailedError, say } from '../output.js';
import { featureQualityLines, ingestQualityLines, parseQualityLimits } from '../quality.js';
import type { FeatureQualityReport, IngestQualityReport } from '../../schemas/quality.js';
import { createProgressView, progressMode } from '../progress.js';
import { probeRetrain, startRetrain, watch } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';

export interface RetrainOptions {
  lake?: string;
  model: string;
  dataset: string;
  families: string;
  ingest?: boolean;
  from?: string;
  to?: string;
  buckets: string;
  param: string[];
  quality?: string[];
  acceptQualityBreach?: string;
  json?: boolean;
  wait: boolean;
}

/** `--param mlp.epochs=20 --param gbdt.learningRate=0.05`: numbers, true/false, or text (e.g. hidden=64-32). */
export function parseParams(params: readonly string[], families: readonly ModelFamily[]): Partial<Record<ModelFamily, Hyperparameters>> {
  const out: Partial<Record<ModelFamily, Hyperparameters>> = {};
  for (const p of params) {
    const m = /^([a-z]+)\.([A-Za-z][A-Za-z0-9_]*)=(.+)$/.exec(p);
    if (!m) throw new ConfigError(`--param must be family.name=value (e.g. mlp.epochs=20), got "${p}"`);
    const [, family, name, raw] = m as unknown as [string, ModelFamily, string, string];
    if (!families.includes(family)) throw new ConfigError(`--param ${p}: "${family}" is not among --families (${families.join(', ')})`);
    const value = /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw) ? Number(raw) : raw === 'true' ? true : raw === 'false' ? false : raw;
    out[family] = { ...(out[family] ?? {}), [name]: value };
  }
  return out;
}

export function parseFamilies(list: string): ModelFamily[] {
  const families = list.split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of families) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(f)) throw new ConfigError(`--families: unknown family "${f}"; known: ${MODEL_FAMILIES.join(', ')}`);
    if (!IMPLEMENTED_FAMILIES.includes(f as ModelFamily)) throw new ConfigError(`--families: "${f}" has no trainer yet; available: ${IMPLEMENTED_FAMILIES.join(', ')}`);
  }
  if (families.length === 0) throw new ConfigError('--families must name at least one family');
  return [...new Set(families)] as ModelFamily[];
}

export function retrainInput(opts: Omit<RetrainOptions, "param"> & { param?: string[] }, defaultLake: string): RetrainInput {
  const lake = parseLakeUri(opts.lake ?? defaultLake, '--lake').uri;
  for (const [flag, value] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (value !== undefined && !isIngestDate(value)) throw new ConfigError(`${flag} must be a date YYYY-MM-DD, got "${value}"`);
  }
  if ((opts.from || opts.to) && !opts.ingest) throw new ConfigError('--from and --to select dates to ingest: add --ingest');
  const bucketCount = Number(opts.buckets);
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 4096) throw new ConfigError(`--buckets must be a whole number from 1 to 4096, got "${opts.buckets}"`);
  const families = parseFamilies(opts.families);
  return {
    lake, model: opts.model, dataset: opts.dataset, families, bucketCount, trigger: 'manual',
    hyperparameters: parseParams(opts.param ?? [], families),
    ...(opts.ingest ? { ingest: { ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) } } : {}),
    ...(opts.quality?.length ? { quality: parseQualityLimits(opts.quality) } : {}),
    ...(opts.acceptQualityBreach !== undefined ? { acceptQualityBreach: acceptReason(opts.acceptQualityBreach) } : {}),
    codeVersion: codeVersion(),
  };
}

function acceptReason(reason: string): string {
  if (reason.trim().length < 3) throw new ConfigError('--accept-quality-breach needs a reason a reviewer can read, e.g. "2025-03 re-export, checked by the data team"');
  return reason.trim();
}

export function summarize(result: RetrainResult) {
  return {
    quality: result.quality,
    promoted: result.promotion.promoted ? result.promotion.version : null,
    promotion: result.promotion,
    features: result.features,
    ingest: result.ingest,
    families: Object.fromEntries(result.candidates.map((c) => [c.family, {
      version: c.version, roc_auc: c.metrics.rocAuc, pr_auc: c.metrics.prAuc, brier: c.metrics.brier, ece: c.metrics.ece,
      train_seconds: c.trainSeconds, test_rows: c.metrics.testRows, registry: c.registryPrefix,
    }])),
  };
}

export function registerRetrain(program: Command): void {
  program.command('retrain')
    .description(COMMANDS.retrain)
    .option('--lake <uri>', 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE')
    .option('--model <name>', 'registry model name', 'readmission-30d')
    .option('--dataset <name>', 'feature dataset name', 'readmission')
    .option('--families <list>', `comma-separated model families (${MODEL_FAMILIES.join(', ')})`, 'logreg')
    .option('--param <family.name=value>', 'a hyperparameter, recorded in the model metadata (repeatable), e.g. mlp.epochs=20', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--ingest', 'ingest the landing zone first')
    .option('--from <date>', 'first ingest date (with --ingest)')
    .option('--to <date>', 'last ingest date (with --ingest)')
    .option('--buckets <n>', 'patient buckets of the curated zone', String(DEFAULT_BUCKET_COUNT))
    .option('--quality <name=value>', 'a data-quality limit (repeatable), e.g. maxRejectRate=0.1', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--accept-quality-breach <reason>', 'train even if the data-quality gate finds a breach; the reason is recorded in the run and the model metadata')
    .option('--no-wait', 'start the run and return its id')
    .option('--json', 'print the result as JSON')
    .action(action(async (opts: RetrainOptions) => {
      const config = loadConfig();
      const input = retrainInput(opts, config.lake.uri);
      const client = await connectClient(config, requireKeys(config));
      try {
        const handle = await startRetrain(client, config, input);
        const url = workflowUrl(config, handle.workflowId);
        if (!opts.wait) return opts.json ? printJson({ workflowId: handle.workflowId, url }) : say(`started ${handle.workflowId}\n${url}`);
        if (!opts.json) say(`started ${handle.workflowId}\n  ${url}`);
        const view = createProgressView(progressMode(opts.json));
        const result = await watch(handle, () => probeRetrain(client, handle.workflowId), (p) => view.update(p)).finally(() => view.finish())
          .catch((err: unknown) => {
            // A run stopped by the data-quality gate says why on stdout too: the report, in either form.
            if (err instanceof RunFailedError && err.failureType === 'DataQualityError') {
              const report = err.details[0] as IngestQualityReport | FeatureQualityReport | undefined;
              if (opts.json) printJson({ workflowId: handle.workflowId, url, failed: true, error: { type: err.failureType, message: err.message }, quality: report ?? null });
              else if (report) for (const line of report.stage === 'ingest' ? ingestQualityLines(report) : featureQualityLines(report)) say(line);
            }
            throw err;
          });
        if (opts.json) return printJson({ workflowId: handle.workflowId, url, ...summarize(result) });
        if (result.ingest) for (const line of ingestQualityLines(result.ingest.quality)) say(line);
        for (const line of featureQualityLines(result.features.quality)) say(line);
        if (result.quality.acceptedBreach) say(`data-quality breach accepted: "${result.quality.acceptedBreach}" (recorded in the model metadata)`);
        for (const c of result.candidates) say(`  ${c.family}: test ROC AUC ${c.metrics.rocAuc.toFixed(4)}, trained in ${c.trainSeconds.toFixed(1)} s -> ${c.version}`);
        say(result.promotion.promoted ? `promoted ${result.promotion.version}: ${result.promotion.reason}` : `not promoted (${result.promotion.version}): ${result.promotion.reason}`);
      } finally {
        await client.connection.close();
      }
    }));
}
