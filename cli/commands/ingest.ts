import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { isIngestDate, RAW_TABLES, type RawTable } from '../../data-lake/layout.js';
import { DEFAULT_BUCKET_COUNT, type IngestInput } from '../../schemas/workflows.js';
import { action, printJson, say } from '../output.js';
import { ingestQualityLines } from '../quality.js';
import { createProgressView, progressMode } from '../progress.js';
import { follow, ingestProgressQuery, ingestSnapshot, startIngest } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';
import { compactionLine } from '../compaction-line.js';

interface IngestOptions { lake?: string; from?: string; to?: string; tables?: string; buckets: string; json?: boolean; wait: boolean }

export function ingestInput(opts: IngestOptions, defaultLake: string): IngestInput {
  const lake = parseLakeUri(opts.lake ?? defaultLake, '--lake').uri;
  for (const [flag, value] of [['--from', opts.from], ['--to', opts.to]] as const) {
    if (value !== undefined && !isIngestDate(value)) throw new ConfigError(`${flag} must be a date YYYY-MM-DD, got "${value}"`);
  }
  if (opts.from && opts.to && opts.from > opts.to) throw new ConfigError(`--from (${opts.from}) is after --to (${opts.to})`);
  const bucketCount = Number(opts.buckets);
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > 4096) throw new ConfigError(`--buckets must be a whole number from 1 to 4096, got "${opts.buckets}"`);
  const tables = opts.tables?.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tables ?? []) if (!(RAW_TABLES as readonly string[]).includes(t)) throw new ConfigError(`--tables: unknown table "${t}"; known: ${RAW_TABLES.join(', ')}`);
  return {
    lake, bucketCount,
    ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}),
    ...(tables ? { tables: tables as RawTable[] } : {}),
  };
}

export function registerIngest(program: Command): void {
  program.command('ingest')
    .description(COMMANDS.ingest)
    .option('--lake <uri>', 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE')
    .option('--from <date>', 'first ingest date (YYYY-MM-DD); default: the first there is')
    .option('--to <date>', 'last ingest date (YYYY-MM-DD); default: the last there is')
    .option('--tables <list>', `comma-separated tables (${RAW_TABLES.join(', ')}); default: all`)
    .option('--buckets <n>', 'patient buckets of the curated zone', String(DEFAULT_BUCKET_COUNT))
    .option('--no-wait', 'start the run and return its id')
    .option('--json', 'print the summary as JSON')
    .action(action(async (opts: IngestOptions) => {
      const config = loadConfig();
      const input = ingestInput(opts, config.lake.uri);
      const client = await connectClient(config, requireKeys(config));
      try {
        const handle = await startIngest(client, config, input, 'manual');
        const url = workflowUrl(config, handle.workflowId);
        if (!opts.wait) return opts.json ? printJson({ workflowId: handle.workflowId, url }) : say(`started ${handle.workflowId}\n${url}`);
        if (!opts.json) say(`started ${handle.workflowId}\n  ${url}`);
        const view = createProgressView(progressMode(opts.json));
        const summary = await follow(handle, ingestProgressQuery, (p) => view.update(ingestSnapshot(p))).finally(() => view.finish());
        if (opts.json) return printJson({ workflowId: handle.workflowId, url, ...summary });
        say(`${summary.files} files (${summary.skippedFiles} unchanged, ${summary.quarantinedFiles} quarantined) in ${summary.runs} run(s)`);
        say(`${summary.rowsIn} rows in = ${summary.accepted} accepted + ${summary.corrected} corrected + ${summary.rejected} rejected`);
        for (const key of summary.quarantined) say(`  quarantined ${key}`);
        for (const line of ingestQualityLines(summary.quality)) say(line);
        say(`manifests: ${summary.manifests.length} under ${input.lake}/manifests/ingest/`);
        say(compactionLine(summary.compaction));
      } finally {
        await client.connection.close();
      }
    }));
}
