import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { userInfo } from 'node:os';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { bindAuditKeys } from '../../activities/audit/log.js';
import { applyPurge, planPurge, planTotals } from '../../activities/retention/purge.js';
import { parseDays, PURGEABLE_ZONES, type PurgeableZone } from '../../core/compliance.js';
import { InvalidInputError } from '../../core/errors.js';
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

interface PurgeOptions {
  lake?: string;
  zone: string;
  olderThan?: string;
  apply?: boolean;
  json?: boolean;
}

/** `lake purge`: a dry run unless --apply; the retention is --older-than, else compliance.yaml's for the zone. */
async function purge(opts: PurgeOptions): Promise<void> {
  const config = loadConfig();
  if (!(PURGEABLE_ZONES as readonly string[]).includes(opts.zone)) {
    throw new InvalidInputError(`--zone must be one of ${PURGEABLE_ZONES.join(', ')}, got "${opts.zone}".`);
  }
  const zone = opts.zone as PurgeableZone;
  const days = opts.olderThan !== undefined ? parseDays(opts.olderThan, '--older-than') : config.compliance.retentionDays[zone];
  if (days === undefined)
    throw new InvalidInputError(
      `no retention for ${zone}: give --older-than (e.g. 90d), or set retention.${zone} in compliance.yaml (CAREPIPE_COMPLIANCE_FILE).`,
    );
  const location = parseLakeUri(opts.lake ?? config.lake.uri, '--lake');
  const store = openStore(location, config.s3);
  try {
    const plan = await planPurge(store, zone, days);
    const totals = planTotals(plan);
    let deleted = 0;
    if (opts.apply) {
      bindAuditKeys(store, { ring: auditKeyRing(requireKeys(config)), retainDays: config.compliance.auditLockDays });
      deleted = await applyPurge(store, plan, `local:${userInfo().username}`);
    }
    const summary = {
      lake: location.uri,
      zone,
      olderThanDays: days,
      cutoff: plan.cutoff,
      dryRun: !opts.apply,
      expired: plan.expired.length,
      ...totals,
      deleted,
    };
    if (opts.json) return printJson(summary);
    say(
      `${opts.apply ? 'purged' : 'would purge (dry run; --apply deletes)'}: ${plan.expired.length} objects of ${zone}/ dated before ${plan.cutoff} and ${totals.staleQuarantine} stale quarantine copies, ${(totals.bytes / 2 ** 20).toFixed(1)} MiB`,
    );
  } finally {
    store.close();
  }
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
    .command('purge')
    .description('delete what a zone keeps past its retention, and stale quarantine copies; a dry run unless --apply, which is audited')
    .addOption(options.lake())
    .requiredOption('--zone <zone>', `the zone: ${PURGEABLE_ZONES.join(', ')}`)
    .option('--older-than <days>', "age past which objects go, e.g. 90d (default: compliance.yaml's retention for the zone)")
    .option('--apply', 'delete (default: only report what would go)')
    .option('--json', 'print as JSON')
    .action(action((opts: PurgeOptions) => purge(opts)));
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
