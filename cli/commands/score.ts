/** `carepipe score`: runs scoreWorkflow, batch scores of a feature dataset version by the champion (or a pinned version). */
import { TypedSearchAttributes } from '@temporalio/common';
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import type { Config } from '../../core/config.js';
import type { Identity } from '../../core/identity/roles.js';
import { taskQueue } from '../../schemas/names.js';
import type { ScoreInput, ScoreResult } from '../../schemas/score.js';
import { SA_DATASET, SA_MODEL, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import { scoreWorkflow } from '../../workflows/index.js';
import { name, options, refuse } from '../options.js';
import { action } from '../output.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { compactStamp } from '../runs.js';

export interface ScoreOptions extends RunFlags {
  lake?: string;
  model: string;
  dataset?: string;
  version?: string;
  datasetVersion?: string;
  threshold?: number;
}

/** Registry and feature versions (`20261128T090512Z-gbdt`, `v-0123abcd...`): one path segment of the lake. */
function versionId(flag: string): (value: string) => string {
  return (value) => (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(value) ? value : refuse(`${flag} must be a version id (letters, digits, _ . -), got "${value}"`));
}

function probability(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !(v >= 0 && v <= 1)) refuse(`--threshold must be a probability from 0 to 1, got "${value}"`);
  return v;
}

/** The workflow input of the flags (shared with `schedule create --workflow score`). */
export function scoreInput(opts: Omit<ScoreOptions, keyof RunFlags>, config: Config, actor: Identity): ScoreInput {
  return {
    actor,
    lake: opts.lake ?? config.lake.uri,
    model: opts.model,
    trigger: 'manual',
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
    ...(opts.datasetVersion !== undefined ? { datasetVersion: opts.datasetVersion } : {}),
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
  };
}

export function scoreAttributes(input: ScoreInput): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: SA_MODEL, value: input.model },
    ...(input.dataset ? [{ key: SA_DATASET, value: input.dataset }] : []),
    { key: SA_STAGE, value: 'score' },
    { key: SA_TRIGGER, value: input.trigger ?? 'manual' },
  ]);
}

export function scoreReport(r: ScoreResult) {
  return {
    json: { ...r },
    lines: [
      `scored ${r.rows} stays of ${r.dataset}@${r.datasetVersion} with ${r.model} ${r.version}: ${r.flagged} flagged at ${r.threshold.toPrecision(4)} (${r.thresholdSource})`,
      `${r.buckets} buckets, ${r.bucketsWritten} written by this run${r.bucketsWritten === 0 ? ' (all there already)' : ''}; manifest ${r.manifestKey}`,
    ],
  };
}

export const scoreRun: RunCommand<ScoreOptions, ScoreInput, typeof scoreWorkflow> = {
  input: scoreInput,
  start: async (client, config, input) => ({
    handle: await client.workflow.start(scoreWorkflow, {
      workflowId: `score/${input.model}/${compactStamp()}`,
      taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
      args: [input],
      typedSearchAttributes: scoreAttributes(input),
      memo: { model: input.model, trigger: input.trigger ?? 'manual' },
    }),
  }),
  // One plan, one activity per bucket, one manifest: it reports at the end.
  probe: async () => undefined,
  report: scoreReport,
};

export function registerScore(program: Command): void {
  addRunFlags(
    program
      .command('score')
      .description(COMMANDS.score)
      .addOption(options.lake())
      .addOption(options.model())
      .option('--dataset <name>', 'feature dataset (default: the one the model version trained on)', name('--dataset'))
      .option('--version <version>', 'model version to score with (default: the champion)', versionId('--version'))
      .option('--dataset-version <version>', "feature dataset version (default: the dataset's latest)", versionId('--dataset-version'))
      .option('--threshold <p>', "flag stays at or above this probability (default: the version's decision threshold)", probability),
  ).action(action((opts: ScoreOptions) => runWorkflowCommand(scoreRun, opts)));
}
