/** `carepipe retrain`: runs retrainWorkflow ([ingest ->] features -> train -> evaluate -> gate -> promote). */
import { type Command, Option } from 'commander';
import { COMMANDS } from '../command-list.js';
import type { Config } from '../../core/config.js';
import type { Identity } from '../../core/identity/roles.js';
import { ConfigError } from '../../core/errors.js';
import type { FeatureQualityReport, IngestQualityReport, QualityLimits } from '../../schemas/quality.js';
import type { Hyperparameters, ModelFamily, RetrainInput, RetrainResult } from '../../schemas/workflows.js';
import type { retrainWorkflow } from '../../workflows/index.js';
import { codeVersion } from '../code-version.js';
import { options, refuse } from '../options.js';
import { action, type RunFailedError } from '../output.js';
import { featureQualityLines, ingestQualityLines, parseQualityLimits } from '../quality.js';
import { addRunFlags, type RunCommand, type RunFlags, type RunReport, runWorkflowCommand } from '../run-workflow.js';
import { probeRetrain, startRetrain } from '../runs.js';

export interface RetrainOptions extends RunFlags {
  lake?: string;
  model: string;
  dataset: string;
  families: ModelFamily[];
  ingest?: boolean;
  from?: string;
  to?: string;
  buckets: number;
  param?: string[];
  quality?: Partial<QualityLimits>;
  acceptQualityBreach?: string;
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

/** The retrain input from its flags (parsed one by one by cli/options.ts); here, the checks across flags. */
export function retrainInput(opts: Omit<RetrainOptions, keyof RunFlags>, config: Config, actor: Identity): RetrainInput {
  if ((opts.from || opts.to) && !opts.ingest) throw new ConfigError('--from and --to select dates to ingest: add --ingest');
  if (opts.from && opts.to && opts.from > opts.to) throw new ConfigError(`--from (${opts.from}) is after --to (${opts.to})`);
  return {
    lake: opts.lake ?? config.lake.uri,
    actor,
    model: opts.model,
    dataset: opts.dataset,
    families: opts.families,
    bucketCount: opts.buckets,
    trigger: 'manual',
    hyperparameters: parseParams(opts.param ?? [], opts.families),
    ...(opts.ingest ? { ingest: { ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) } } : {}),
    ...(opts.quality && Object.keys(opts.quality).length ? { quality: opts.quality } : {}),
    ...(opts.acceptQualityBreach !== undefined ? { acceptQualityBreach: opts.acceptQualityBreach } : {}),
    codeVersion: codeVersion(),
  };
}

function acceptReason(reason: string): string {
  if (reason.trim().length < 3) refuse('--accept-quality-breach needs a reason a reviewer can read, e.g. "2025-03 re-export, checked by the data team"');
  return reason.trim();
}

/** `--quality name=value`, repeatable: each occurrence adds one limit. */
function qualityLimit(value: string, previous: Partial<QualityLimits>): Partial<QualityLimits> {
  try {
    return { ...previous, ...parseQualityLimits([value]) };
  } catch (err) {
    return refuse(err instanceof Error ? err.message : String(err));
  }
}

export function summarize(result: RetrainResult) {
  return {
    quality: result.quality,
    promoted: result.promotion.promoted ? result.promotion.version : null,
    promotion: result.promotion,
    features: result.features,
    ingest: result.ingest,
    families: Object.fromEntries(
      result.candidates.map((c) => [
        c.family,
        {
          version: c.version,
          roc_auc: c.metrics.rocAuc,
          pr_auc: c.metrics.prAuc,
          brier: c.metrics.brier,
          ece: c.metrics.ece,
          train_seconds: c.trainSeconds,
          test_rows: c.metrics.testRows,
          registry: c.registryPrefix,
        },
      ]),
    ),
  };
}

/** A retrain's result for people: the quality gate, each candidate, the promotion (shared with `schedule trigger`). */
export function retrainReport(result: RetrainResult): Required<RunReport> {
  return {
    json: summarize(result),
    lines: [
      ...(result.ingest ? ingestQualityLines(result.ingest.quality) : []),
      ...featureQualityLines(result.features.quality),
      ...(result.quality.acceptedBreach ? [`data-quality breach accepted: "${result.quality.acceptedBreach}" (recorded in the model metadata)`] : []),
      ...result.candidates.map((c) => `  ${c.family}: test ROC AUC ${c.metrics.rocAuc.toFixed(4)}, trained in ${c.trainSeconds.toFixed(1)} s -> ${c.version}`),
      result.promotion.promoted
        ? `promoted ${result.promotion.version}: ${result.promotion.reason}`
        : `not promoted (${result.promotion.version}): ${result.promotion.reason}`,
    ],
  };
}

/** A run the data-quality gate stopped says why on stdout too: the report, in either form. */
export function retrainFailure(err: RunFailedError): RunReport | undefined {
  if (err.failureType !== 'DataQualityError') return undefined;
  const report = err.details[0] as IngestQualityReport | FeatureQualityReport | undefined;
  return { json: { quality: report ?? null }, lines: report ? (report.stage === 'ingest' ? ingestQualityLines(report) : featureQualityLines(report)) : [] };
}

export const retrainRun: RunCommand<RetrainOptions, RetrainInput, typeof retrainWorkflow> = {
  input: retrainInput,
  start: async (client, config, input) => ({ handle: await startRetrain(client, config, input) }),
  probe: probeRetrain,
  report: retrainReport,
  failure: retrainFailure,
};

const collect = (v: string, acc: string[]) => [...acc, v];

export function registerRetrain(program: Command): void {
  addRunFlags(
    program
      .command('retrain')
      .description(COMMANDS.retrain)
      .addOption(options.lake())
      .addOption(options.model())
      .addOption(options.dataset())
      .addOption(options.families())
      .option('--param <family.name=value>', 'a hyperparameter, recorded in the model metadata (repeatable), e.g. mlp.epochs=20', collect, [] as string[])
      .option('--ingest', 'ingest the landing zone first')
      .addOption(options.date('--from <date>', 'first ingest date (with --ingest)'))
      .addOption(options.date('--to <date>', 'last ingest date (with --ingest)'))
      .addOption(options.buckets())
      .addOption(
        new Option('--quality <name=value>', 'a data-quality limit (repeatable), e.g. maxRejectRate=0.1')
          .argParser(qualityLimit)
          .default({}, 'the limits of docs/architecture.md'),
      )
      .option(
        '--accept-quality-breach <reason>',
        'train even if the data-quality gate finds a breach; the reason is recorded in the run and the model metadata',
        acceptReason,
      ),
  ).action(action((opts: RetrainOptions) => runWorkflowCommand(retrainRun, opts)));
}
