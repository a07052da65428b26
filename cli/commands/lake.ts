import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { openStore } from '../../activities/io/open-store.js';
import { taskQueue } from '../../schemas/names.js';
import { DEFAULT_BUCKET_COUNT } from '../../schemas/workflows.js';
import { compactionLine } from '../compaction-line.js';
import { compactWorkflow } from '../../workflows/index.js';
import { action, printJson, say } from '../output.js';
import { compactStamp } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';

interface CompactOptions { lake?: string; buckets: string; json?: boolean; wait: boolean }

/** Objects and bytes per zone of the lake (curated split into generations, records and staged fragments). */
async function lakeStats(uri: string, s3: ReturnType<typeof loadConfig>['s3']): Promise<Record<string, { objects: number; bytes: number }>> {
  const store = openStore(parseLakeUri(uri, '--lake'), s3);
  const out: Record<string, { objects: number; bytes: number }> = {};
  try {
    for await (const o of store.list('')) {
      const zone = o.key.startsWith('curated/')
        ? (/\/gen-[0-9a-f]+\.parquet$/.test(o.key) ? 'curated (generations)' : o.key.endsWith('/current.json') ? 'curated (records)' : 'curated (staged fragments)')
        : o.key.split('/')[0]!;
      const z = (out[zone] ??= { objects: 0, bytes: 0 });
      z.objects++;
      z.bytes += o.size;
    }
  } finally {
    store.close();
  }
  return out;
}

export function registerLake(program: Command): void {
  const lakeCommand = program.command('lake').description(COMMANDS.lake);
  lakeCommand.command('compact')
    .description('run compactWorkflow: fold every ingested day the curated generations do not hold yet into one file per table and bucket')
    .option('--lake <uri>', 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE')
    .option('--buckets <n>', 'patient buckets of the curated zone', String(DEFAULT_BUCKET_COUNT))
    .option('--no-wait', 'start the run and return its id')
    .option('--json', 'print the summary as JSON')
    .action(action(async (opts: CompactOptions) => {
      const config = loadConfig();
      const lake = parseLakeUri(opts.lake ?? config.lake.uri, '--lake').uri;
      const bucketCount = Number(opts.buckets);
      if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 4096) throw new ConfigError(`--buckets must be a whole number from 1 to 4096, got "${opts.buckets}"`);
      const client = await connectClient(config, requireKeys(config));
      try {
        const handle = await client.workflow.start(compactWorkflow, {
          workflowId: `compact/${compactStamp()}`, taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'), args: [{ lake, bucketCount }],
        });
        const url = workflowUrl(config, handle.workflowId);
        if (!opts.wait) return opts.json ? printJson({ workflowId: handle.workflowId, url }) : say(`started ${handle.workflowId}\n  ${url}`);
        if (!opts.json) say(`started ${handle.workflowId}\n  ${url}`);
        const summary = await handle.result();
        if (opts.json) return printJson({ workflowId: handle.workflowId, url, ...summary });
        say(compactionLine(summary));
      } finally {
        await client.connection.close();
      }
    }));
  lakeCommand.command('stats')
    .description('objects and bytes per zone of the lake (curated: generations, records, staged fragments)')
    .option('--lake <uri>', 'lake URI; default CAREPIPE_LAKE')
    .option('--json', 'print as JSON')
    .action(action(async (opts: { lake?: string; json?: boolean }) => {
      const config = loadConfig();
      const stats = await lakeStats(opts.lake ?? config.lake.uri, config.s3);
      if (opts.json) return printJson(stats);
      for (const [zone, z] of Object.entries(stats).sort()) say(`${zone.padEnd(28)} ${String(z.objects).padStart(9)} objects ${(z.bytes / 2 ** 20).toFixed(1).padStart(10)} MiB`);
    }));
}
