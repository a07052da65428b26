import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { loadConfig, parseLakeUri } from '../../core/config.js';
import { openStore } from '../../activities/io/open-store.js';
import { taskQueue } from '../../schemas/names.js';
import type { CompactInput } from '../../schemas/workflows.js';
import { compactWorkflow } from '../../workflows/index.js';
import { compactionLine } from '../compaction-line.js';
import { options } from '../options.js';
import { action, printJson, say } from '../output.js';
import { addRunFlags, type RunCommand, type RunFlags, runWorkflowCommand } from '../run-workflow.js';
import { compactStamp } from '../runs.js';

interface CompactOptions extends RunFlags {
  lake?: string;
  buckets: number;
}

export const compactRun: RunCommand<CompactOptions, CompactInput, typeof compactWorkflow> = {
  input: (opts, config, actor) => ({ lake: opts.lake ?? config.lake.uri, actor, bucketCount: opts.buckets }),
  start: async (client, config, input) => ({
    handle: await client.workflow.start(compactWorkflow, {
      workflowId: `compact/${compactStamp()}`,
      taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
      args: [input],
    }),
  }),
  // A compaction is a plan, one activity per bucket and a finish: it reports at the end.
  probe: async () => undefined,
  report: (summary) => ({ json: { ...summary }, lines: [compactionLine(summary)] }),
};

/** Objects and bytes per zone of the lake (curated split into generations, records and staged fragments). */
async function lakeStats(uri: string, s3: ReturnType<typeof loadConfig>['s3']): Promise<Record<string, { objects: number; bytes: number }>> {
  const store = openStore(parseLakeUri(uri, '--lake'), s3);
  const out: Record<string, { objects: number; bytes: number }> = {};
  try {
    for await (const o of store.list('')) {
      const zone = o.key.startsWith('curated/')
        ? /\/gen-[0-9a-f]+\.parquet$/.test(o.key)
          ? 'curated (generations)'
          : o.key.endsWith('/_current.json')
            ? 'curated (records)'
            : 'curated (staged fragments)'
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
  addRunFlags(
    lakeCommand
      .command('compact')
      .description('run compactWorkflow: fold every ingested day the curated generations do not hold yet into one file per table and bucket')
      .addOption(options.lake())
      .addOption(options.buckets()),
  ).action(action((opts: CompactOptions) => runWorkflowCommand(compactRun, opts)));
  lakeCommand
    .command('inspect')
    .description(
      "the footer of a Parquet object or of every object under a prefix (file:// or s3://): schema, rows, row groups, compression, encodings, statistics, and a quarantined file's reason",
    )
    .argument('<uri>', 'file:///path/file.parquet, s3://bucket/key, or a prefix of either')
    .option('--json', 'print as JSON')
    .option('--show-values', 'show statistics bounds of byte-array and PHI columns too (redacted by default: raw/ and quarantine/ hold PHI)')
    .action(
      action(async (uri: string, opts: { json?: boolean; showValues?: boolean }) => {
        const { inspectUri, printInspect } = await import('./lake/inspect.js');
        printInspect(await inspectUri(uri, loadConfig().s3, { showValues: opts.showValues ?? false }), opts.json ?? false);
      }),
    );
  lakeCommand
    .command('stats')
    .description('objects and bytes per zone of the lake (curated: generations, records, staged fragments)')
    .addOption(options.lake())
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { lake?: string; json?: boolean }) => {
        const config = loadConfig();
        const stats = await lakeStats(opts.lake ?? config.lake.uri, config.s3);
        if (opts.json) return printJson(stats);
        for (const [zone, z] of Object.entries(stats).sort())
          say(`${zone.padEnd(28)} ${String(z.objects).padStart(9)} objects ${(z.bytes / 2 ** 20).toFixed(1).padStart(10)} MiB`);
      }),
    );
}
