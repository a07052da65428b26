import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { once } from 'node:events';
import { loadConfig, requireCodecKeys } from '../../core/config.js';
import { AesGcmPayloadCodec } from '../../core/codec.js';
import { createCodecServer } from '../../core/codec-server.js';
import { createLogger } from '../../core/log.js';
import { configOverrides } from '../options.js';
import { action } from '../output.js';

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(COMMANDS['codec-server'])
    .option('--port <n>', 'port (CAREPIPE_CODEC_SERVER_PORT, default 8234)')
    .option('--host <address>', 'address to bind (CAREPIPE_CODEC_SERVER_HOST, default 127.0.0.1)')
    .action(
      action(async (opts: { port?: string; host?: string }) => {
        // The flags stand in for their variables: read by the same rules, the flag named when refused.
        const config = loadConfig(
          process.env,
          configOverrides([
            ['--port', 'CAREPIPE_CODEC_SERVER_PORT', opts.port],
            ['--host', 'CAREPIPE_CODEC_SERVER_HOST', opts.host],
          ]),
        );
        const settings = config.codecServer;
        const ring = requireCodecKeys(config); // not the pseudonym key: this process only decrypts payloads
        const logger = createLogger(config.logLevel, { process: 'codec-server' });
        const server = createCodecServer({
          codec: new AesGcmPayloadCodec(ring),
          origins: settings.origins,
          logger,
          ...(settings.token !== undefined ? { token: settings.token } : {}),
        });
        server.listen(settings.port, settings.host);
        await once(server, 'listening');
        logger.info('codec server listening', {
          url: `http://${settings.host}:${settings.port}`,
          origins: settings.origins.join(','),
          token: settings.token !== undefined,
          keys: ring.source,
        });
        await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
        server.close();
        server.closeAllConnections();
        logger.info('codec server stopped', {});
      }),
    );
}
