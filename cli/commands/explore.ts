/**
 * `carepipe explore`: runs exploreWorkflow on a feature version (the dataset's latest unless
 * --version names one) and prints where profile.html and profile.json are.
 */
import { TypedSearchAttributes } from '@temporalio/common';
import type { Command } from 'commander';
import { Option } from 'commander';
import { COMMANDS } from '../command-list.js';
import { lake as lakeKeys } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import { SA_DATASET, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import type { ExploreWorkflowInput } from '../../workflows/explore.js';
import type { exploreWorkflow } from '../../workflows/index.js';
import { options } from '../options.js';
import { action } from '../output.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { compactStamp } from '../runs.js';

interface ExploreOptions extends RunFlags {
  lake?: string;
  dataset: string;
  version?: string;
}

export const exploreRun: RunCommand<ExploreOptions, ExploreWorkflowInput, typeof exploreWorkflow> = {
  input: (opts, config, actor) => ({ actor, lake: opts.lake ?? config.lake.uri, dataset: opts.dataset, ...(opts.version ? { version: opts.version } : {}) }),
  start: async (client, config, input) => ({
    handle: await client.workflow.start<typeof exploreWorkflow>('exploreWorkflow', {
      workflowId: `explore/${input.dataset}/${compactStamp()}`,
      taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
      args: [input],
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SA_DATASET, value: input.dataset },
        { key: SA_STAGE, value: 'explore' },
        { key: SA_TRIGGER, value: 'manual' },
      ]),
      memo: { dataset: input.dataset, trigger: 'manual' },
    }),
  }),
  // The map has no progress query; the run's own start and end are what the view shows.
  probe: () => Promise.resolve(undefined),
  report(result, input) {
    const prefix = `${input.lake}/${lakeKeys.reportsPrefix(input.dataset, result.version)}`;
    return {
      json: { ...result, profileHtmlUri: `${input.lake}/${result.profileHtmlKey}`, profileJsonUri: `${input.lake}/${result.profileJsonKey}` },
      lines: [
        `${input.dataset}@${result.version}: ${result.rows} labelled stays, ${result.features} features profiled`,
        `profile.html: ${prefix}profile.html (${result.htmlBytes} bytes)`,
        `profile.json: ${prefix}profile.json`,
      ],
    };
  },
};

export function registerExplore(program: Command): void {
  addRunFlags(
    program
      .command('explore')
      .description(COMMANDS.explore)
      .addOption(options.lake())
      .addOption(options.dataset())
      .addOption(new Option('--version <version>', "feature version to profile (default: the dataset's latest)")),
  ).action(action((opts: ExploreOptions) => runWorkflowCommand(exploreRun, opts)));
}
