/**
 * `carepipe features`: runs featuresWorkflow on a lake's curated zone, follows its progress, and
 * prints the dataset version and where its shards are. Buckets whose inputs an earlier version
 * already built from are copied, not recomputed; a rerun on unchanged inputs finds every shard.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { type Config, loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { lake as lakeKeys } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import { SA_DATASET, SA_STAGE, SA_TRIGGER } from '../../schemas/search-attributes.js';
import { DEFAULT_BUCKET_COUNT, type FeaturesInput } from '../../schemas/workflows.js';
import { featuresProgressQuery, featuresWorkflow } from '../../workflows/index.js';
import { action, printJson, say } from '../output.js';
import { featureQualityLines } from '../quality.js';
import { compactStamp, follow } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';

interface FeaturesOptions { lake?: string; dataset: string; buckets: string; json?: boolean; wait: boolean }

export function featuresInput(opts: FeaturesOptions, defaultLake: string): FeaturesInput {
  const lake = parseLakeUri(opts.lake ?? defaultLake, '--lake').uri;
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(opts.dataset)) {
    throw new ConfigError(`--dataset must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got "${opts.dataset}"`);
  }
  const bucketCount = Number(opts.buckets);
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 4096) throw new ConfigError(`--buckets must be a whole number from 1 to 4096, got "${opts.buckets}"`);
  return { lake, dataset: opts.dataset, bucketCount };
}

export async function startFeatures(client: Client, config: Config, input: FeaturesInput, workflowId?: string): Promise<WorkflowHandle<typeof featuresWorkflow>> {
  return client.workflow.start(featuresWorkflow, {
    workflowId: workflowId ?? `features/${input.dataset}/${compactStamp()}`,
    taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_DATASET, value: input.dataset }, { key: SA_STAGE, value: 'features' }, { key: SA_TRIGGER, value: 'manual' },
    ]),
    memo: { dataset: input.dataset, trigger: 'manual' },
  });
}

export function registerFeatures(program: Command): void {
  program.command('features')
    .description(COMMANDS.features)
    .option('--lake <uri>', 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE')
    .option('--dataset <name>', 'feature dataset name', 'readmission')
    .option('--buckets <n>', 'patient buckets of the curated zone', String(DEFAULT_BUCKET_COUNT))
    .option('--no-wait', 'start the run and return its id')
    .option('--json', 'print the result as JSON')
    .action(action(async (opts: FeaturesOptions) => {
      const config = loadConfig();
      const input = featuresInput(opts, config.lake.uri);
      const client = await connectClient(config, requireKeys(config));
      try {
        const handle = await startFeatures(client, config, input);
        const url = workflowUrl(config, handle.workflowId);
        if (!opts.wait) return opts.json ? printJson({ workflowId: handle.workflowId, url }) : say(`started ${handle.workflowId}\n${url}`);
        if (!opts.json) say(`started ${handle.workflowId}\n  ${url}`);
        const started = Date.now();
        const result = await follow(handle, featuresProgressQuery, (p) => {
          if (opts.json || p.bucketsTotal === 0) return;
          const seconds = (Date.now() - started) / 1000;
          const left = p.bucketsDone > 0 ? (seconds / p.bucketsDone) * (p.bucketsTotal - p.bucketsDone) : NaN;
          say(`  ${p.version}: buckets ${p.bucketsDone}/${p.bucketsTotal} (built ${p.built}, reused ${p.reused}, present ${p.present}), ` +
            `${p.rows} stays, ${(p.bucketsDone / Math.max(seconds, 1e-3)).toFixed(1)} buckets/s${Number.isFinite(left) ? `, ~${Math.ceil(left)} s left` : ''}`);
        });
        const shards = `${input.lake}/${lakeKeys.featureVersionPrefix(input.dataset, result.version)}bucket=*.parquet`;
        const manifest = `${input.lake}/${result.manifestKey}`;
        if (opts.json) return printJson({ workflowId: handle.workflowId, url, ...result, shardsUri: shards, manifestUri: manifest });
        say(`${input.dataset}@${result.version}: ${result.shards} shards (${result.builtShards} built, ${result.reusedShards} reused, ` +
          `${result.skippedShards - result.reusedShards} already complete) in ${result.runs} run(s)`);
        say(`${result.rows} index stays, ${result.positives} readmitted; ${result.censored} without 30 days of follow-up before ${result.dataEnd}`);
        say(`labelled: ${result.labelledRows} stays, label rate ${(result.labelledRows ? result.labelledPositives / result.labelledRows : 0).toFixed(4)}`);
        for (const line of featureQualityLines(result.quality)) say(line);
        say(`shards:   ${shards}`);
        say(`manifest: ${manifest}`);
      } finally {
        await client.connection.close();
      }
    }));
}
