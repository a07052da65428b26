/**
 * `carepipe audit verify`: checks every audit stream of a lake (records, MACs, links, the signed
 * head) with the audit key ring, and exits 1 naming the first broken record of each broken stream.
 */
import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { bindAuditKeys, listAuditStreams, verifyAuditStream } from '../../activities/audit/log.js';
import { openStore } from '../../activities/io/open-store.js';
import { loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { AuditChainError } from '../../core/errors.js';
import { options } from '../options.js';
import { action, printJson, say } from '../output.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description(COMMANDS.audit);
  audit
    .command('verify')
    .description('verify every audit stream of the lake: an edited, removed, forged or truncated-at-the-end record fails (exit 1)')
    .addOption(options.lake())
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { lake?: string; json?: boolean }) => {
        const config = loadConfig();
        const location = parseLakeUri(opts.lake ?? config.lake.uri, '--lake');
        const store = bindAuditKeys(openStore(location, config.s3), { ring: auditKeyRing(requireKeys(config)) });
        try {
          const verdicts = [];
          for (const stream of await listAuditStreams(store)) verdicts.push(await verifyAuditStream(store, stream));
          const broken = verdicts.filter((v) => !v.ok);
          if (opts.json) printJson({ lake: location.uri, ok: broken.length === 0, streams: verdicts });
          else {
            for (const v of verdicts)
              say(
                v.ok
                  ? `ok      ${v.stream}: ${v.records} records${v.legacy ? ` (${v.legacy} legacy, unkeyed)` : ''}`
                  : `BROKEN  ${v.stream}: at ${v.seq === 'head' ? 'the head checkpoint' : `record ${v.seq}`}: ${v.problem}`,
              );
            say(`${verdicts.length} streams, ${broken.length} broken`);
          }
          if (broken.length > 0)
            throw new AuditChainError(`audit: ${broken.length} of ${verdicts.length} streams broken (${broken.map((b) => b.stream).join(', ')})`);
        } finally {
          store.close();
        }
      }),
    );
}
