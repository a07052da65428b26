/**
 * `carepipe features`: runs featuresWorkflow on a lake's curated zone, follows its progress, and
 * prints the dataset version and where its shards are. Buckets whose inputs an earlier version
 * already built from are copied, not recomputed; a rerun on unchanged inputs finds every shard.
 */
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { compactionLine } from '../compaction-line.js';
import { lake as lakeKeys } from '../../data-lake/layout.js';
import type { FeaturesInput } from '../../schemas/workflows.js';
import type { featuresWorkflow } from '../../workflows/index.js';
import { options } from '../options.js';
import { action } from '../output.js';
import { featureQualityLines } from '../quality.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { probeFeatures, startFeatures } from '../runs.js';

interface FeaturesOptions extends RunFlags {
  lake?: string;
  dataset: string;
  buckets: number;
}

export const featuresRun: RunCommand<FeaturesOptions, FeaturesInput, typeof featuresWorkflow> = {
  input: (opts, config, actor) => ({ lake: opts.lake ?? config.lake.uri, actor, dataset: opts.dataset, bucketCount: opts.buckets }),
  start: async (client, config, input) => ({ handle: await startFeatures(client, config, input) }),
  probe: probeFeatures,
  report(result, input) {
    const shardsUri = `${input.lake}/${lakeKeys.featureVersionPrefix(input.dataset, result.version)}bucket=*.parquet`;
    const manifestUri = `${input.lake}/${result.manifestKey}`;
    return {
      json: { ...result, shardsUri, manifestUri },
      lines: [
        `${input.dataset}@${result.version}: ${result.shards} shards (${result.builtShards} built, ${result.reusedShards} reused, ` +
          `${result.skippedShards - result.reusedShards} already complete) in ${result.runs} run(s)`,
        `${result.rows} index stays, ${result.positives} readmitted; ${result.censored} without 30 days of follow-up before ${result.dataEnd}`,
        `labelled: ${result.labelledRows} stays, label rate ${(result.labelledRows ? result.labelledPositives / result.labelledRows : 0).toFixed(4)}`,
        ...featureQualityLines(result.quality),
        compactionLine(result.compaction),
        `shards:   ${shardsUri}`,
        `manifest: ${manifestUri}`,
      ],
    };
  },
};

export function registerFeatures(program: Command): void {
  addRunFlags(
    program.command('features').description(COMMANDS.features).addOption(options.lake()).addOption(options.dataset()).addOption(options.buckets()),
  ).action(action((opts: FeaturesOptions) => runWorkflowCommand(featuresRun, opts)));
}
