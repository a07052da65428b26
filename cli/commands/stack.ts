import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { type Config, DEFAULT_BUCKET, loadConfig, parseLakeUri } from '../../core/config.js';
import { ensureDevKeyFile } from '../../infra/keys.js';
import { stackDown, stackStatus, stackUp, type StackStatus } from '../../infra/stack.js';
import { ensureBucket } from '../../activities/io/open-store.js';
import { action, printJson, say } from '../output.js';

/** Brings the local stack up: services, the lake bucket, and dev keys if none are configured. */
export async function bringUp(config: Config, log: (line: string) => void): Promise<StackStatus & { keysCreated: boolean }> {
  // Keys first: the codec server reads them when it starts.
  const keysCreated = config.keySources.fileExplicit || config.keySources.codecEnv ? false : ensureDevKeyFile(config.keySources.file);
  if (keysCreated) log(`created local dev keys in ${config.keySources.file}`);
  const status = await stackUp({
    stateDir: config.stateDir,
    toolsDir: config.toolsDir,
    ports: config.stack,
    persistent: true,
    log,
    codecServer: { host: config.codecServer.host, port: config.codecServer.port },
  });
  const lakes = [parseLakeUri(`s3://${DEFAULT_BUCKET}`), config.lake].filter((l) => l.kind === 's3');
  for (const l of lakes) await ensureBucket(l, config.s3);
  return { ...status, keysCreated };
}

export function registerStack(program: Command): void {
  const stack = program.command('stack').description(COMMANDS.stack);
  stack
    .command('up')
    .description('start the Temporal dev server (Web UI), versitygw and the codec server, create the lake bucket and dev keys (idempotent)')
    .option('--json', 'print the stack status as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const config = loadConfig();
        const status = await bringUp(config, opts.json ? () => {} : say);
        if (opts.json) return printJson(status);
        say(`Temporal   ${status.temporal.address}  (${status.temporal.startedNow ? 'started' : 'already running'})`);
        say(`Web UI     ${status.temporal.uiUrl}`);
        if (status.codecServer)
          say(
            `Codec      ${status.codecServer.endpoint}  (${status.codecServer.startedNow ? 'started' : 'already running'}): the Web UI shows payloads decrypted through it`,
          );
        say(`S3         ${status.s3.endpoint}  (${status.s3.startedNow ? 'started' : 'already running'}), data in ${status.s3.dataDir}`);
        say(`lake       ${config.lake.uri}`);
      }),
    );
  stack
    .command('down')
    .description('stop the services carepipe started (data and history stay in the state folder)')
    .option('--json', 'print what was stopped as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const config = loadConfig();
        const stopped = await stackDown({ stateDir: config.stateDir });
        if (opts.json) return printJson({ stopped });
        say(stopped.length ? `stopped ${stopped.join(', ')}` : 'nothing carepipe started is running');
      }),
    );
  stack
    .command('status')
    .description('health of the local stack')
    .option('--json', 'print the status as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const config = loadConfig();
        const status = await stackStatus({ stateDir: config.stateDir, toolsDir: config.toolsDir, ports: config.stack, codecServer: config.codecServer });
        if (opts.json) return printJson(status);
        say(`Temporal ${status.temporal.address}: ${status.temporal.healthy ? 'healthy' : 'down'}`);
        say(`S3       ${status.s3.endpoint}: ${status.s3.healthy ? 'healthy' : 'down'}`);
        if (status.codecServer) say(`Codec    ${status.codecServer.endpoint}: ${status.codecServer.healthy ? 'healthy' : 'down'}`);
        if (!status.temporal.healthy || !status.s3.healthy) process.exitCode = 3;
      }),
    );
}
