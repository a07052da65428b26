import type { Command } from 'commander';
import { once } from 'node:events';
import { COMMANDS } from '../command-list.js';
import { openStore } from '../../activities/io/open-store.js';
import { type KeyRing, loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { type RawServeSettings, serveSettings, startServer } from '../../serving/server.js';
import { action } from '../output.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(COMMANDS.serve)
    .option('--lake <uri>', 'the lake whose registry to serve (CAREPIPE_LAKE)')
    .option('--host <address>', 'address to bind (CAREPIPE_SERVE_HOST, default 127.0.0.1)')
    .option('--port <n>', 'port (CAREPIPE_SERVE_PORT, default 8235; 0 picks a free one)')
    .option('--models <names>', 'comma-separated models to serve (CAREPIPE_SERVE_MODELS; default every model in the registry)')
    .option('--poll-ms <n>', 'how often to check the champion aliases (CAREPIPE_SERVE_POLL_MS, default 2000)')
    .option('--max-batch <n>', 'most stays a request (CAREPIPE_SERVE_MAX_BATCH, default 1000)')
    .option('--body-limit <bytes>', 'largest request body (CAREPIPE_SERVE_BODY_LIMIT, default 16 MiB)')
    .action(
      action(async (opts: RawServeSettings & { lake?: string }) => {
        const config = loadConfig(process.env);
        const settings = serveSettings(process.env, opts);
        const logger = createLogger(config.logLevel, { process: 'serve' });
        const location = parseLakeUri(opts.lake ?? config.lake.uri, '--lake');
        const store = openStore(location, config.s3);
        let pseudonym: KeyRing | null = null;
        try {
          pseudonym = requireKeys(config).pseudonym;
        } catch (err) {
          logger.warn('serve: no pseudonym key; raw rows are refused, feature records are served', { reason: (err as Error).message });
        }
        const server = await startServer(store, settings, logger, pseudonym);
        // The URL on stdout alone, for scripts (the demo) that start the server in the background.
        process.stdout.write(`${server.url}\n`);
        await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
        await server.close();
        store.close();
        logger.info('serve: stopped', {});
      }),
    );
}
