import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { once } from 'node:events';
import { loadConfig, requireCodecKeys } from '../../core/config.js';
import { AesGcmPayloadCodec } from '../../core/codec.js';
import { createCodecServer } from '../../core/codec-server.js';
import { checkExposure } from '../../core/codec-server-auth.js';
import { lakeAuditSink } from '../../core/identity/audit-log.js';
import { createIdentityVerifier } from '../../core/identity/token.js';
import { createLogger } from '../../core/log.js';
import { openStore } from '../../activities/io/open-store.js';
import { configOverrides } from '../options.js';
import { action } from '../output.js';

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(COMMANDS['codec-server'])
    .option('--port <n>', 'port (CAREPIPE_CODEC_SERVER_PORT, default 8234)')
    .option('--host <address>', 'address to bind (CAREPIPE_CODEC_SERVER_HOST, default 127.0.0.1; off loopback only with authentication)')
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
        // Per-user tokens only from a real issuer: dev tokens prove only access to this machine's key file.
        const verifier = config.identity.oidc ? createIdentityVerifier(config.identity) : undefined;
        const warning = checkExposure(
          settings.host,
          { ...(verifier ? { verifier } : {}), ...(settings.token !== undefined ? { token: settings.token } : {}) },
          !!settings.tls,
        );
        if (warning) logger.warn('codec server exposed', { warning });
        // Each decode is audited in the lake's audit zone before it is answered (core/identity/audit-log.ts).
        const store = openStore(config.lake, config.s3);
        const server = createCodecServer({
          codec: new AesGcmPayloadCodec(ring),
          origins: settings.origins,
          logger,
          encode: settings.encode,
          audit: lakeAuditSink(store, 'codec'),
          ...(verifier ? { auth: { verifier } } : {}),
          ...(settings.token !== undefined ? { token: settings.token } : {}),
          ...(settings.tls ? { tls: settings.tls } : {}),
        });
        server.listen(settings.port, settings.host);
        await once(server, 'listening');
        logger.info('codec server listening', {
          url: `${settings.tls ? 'https' : 'http'}://${settings.host}:${settings.port}`,
          origins: settings.origins.join(','),
          auth: verifier ? `oidc ${config.identity.oidc!.issuer}` : settings.token !== undefined ? 'shared token' : 'none (loopback)',
          encode: settings.encode,
          audit: `${config.lake.uri}/audit/codec/`,
          keys: ring.source,
        });
        await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
        server.close();
        server.closeAllConnections();
        store.close();
        logger.info('codec server stopped', {});
      }),
    );
}
