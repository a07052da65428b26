/**
 * `npm test`'s runner: starts the services the integration tests need (a Temporal dev server and
 * versitygw on ports of their own, state in a scratch folder) unless they already answer there,
 * runs ava, stops what it started (also when tests fail or the run is interrupted), and closes
 * with `N passed, N failed`. A skipped or todo test fails the run: nothing is silently skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { REPO_ROOT } from '../core/config.js';
import { stackAddresses, stackDown, stackUp } from '../infra/stack.js';

const ports = {
  temporal: Number(process.env.CAREPIPE_TEST_TEMPORAL_PORT ?? 17233),
  ui: Number(process.env.CAREPIPE_TEST_UI_PORT ?? 18233),
  s3: Number(process.env.CAREPIPE_TEST_S3_PORT ?? 17070),
};
// Per port set, so runs on other ports (parallel development) never share a state folder.
const stateDir = join(REPO_ROOT, '.test-artifacts', `stack-${ports.temporal}`);
const toolsDir = resolve(REPO_ROOT, process.env.CAREPIPE_TOOLS_DIR ?? '.tools');

/**
 * PATH for the tests: the Python venv infra/test-deps.sh made when the system python3 lacked the
 * test packages goes first (the tests call `python3`); the tools folder (hadolint, the Go
 * binaries) goes last, so what the machine has on PATH wins, as test-deps.sh checked.
 */
function testPath(): string {
  const venvBin = join(toolsDir, 'python', 'bin');
  return [...(existsSync(venvBin) ? [venvBin] : []), process.env.PATH ?? '', join(toolsDir, 'bin')].filter(Boolean).join(delimiter);
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
}

function runAva(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; counts: Counts }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs'), '--tap', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const counts: Counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (/^not ok \d+/.test(line)) counts.failed++;
        else if (/^ok \d+ .*# SKIP/i.test(line)) counts.skipped++;
        else if (/^ok \d+ .*# TODO/i.test(line)) counts.todo++;
        else if (/^ok \d+/.test(line)) counts.passed++;
      }
    });
    child.on('close', (code) => resolve({ code: code ?? 1, counts }));
  });
}

async function main(): Promise<number> {
  rmSync(stateDir, { recursive: true, force: true });
  const log = (line: string) => process.stderr.write(`[test stack] ${line}\n`);
  // The state folder is fresh, so the pid files in it are exactly what this run started.
  const stop = async () => {
    const stopped = await stackDown({ stateDir });
    if (stopped.length) log(`stopped ${stopped.join(', ')}`);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(130)));
  }
  try {
    await stackUp({ stateDir, toolsDir, ports, persistent: false, log });
    const { temporalAddress, s3Endpoint } = stackAddresses(ports);
    const env = {
      ...process.env,
      PATH: testPath(),
      CAREPIPE_TEST_TEMPORAL_ADDRESS: temporalAddress,
      CAREPIPE_TEST_S3_ENDPOINT: s3Endpoint,
      CAREPIPE_TEST_ARTIFACTS: join(REPO_ROOT, '.test-artifacts'),
    };
    const { code, counts } = await runAva(process.argv.slice(2), env);
    const total = counts.passed + counts.failed + counts.skipped + counts.todo;
    const failed = counts.failed + counts.todo + (code !== 0 && counts.failed === 0 ? 1 : 0);
    process.stdout.write(`\n${counts.passed} passed, ${failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}\n`);
    if (total === 0) {
      process.stderr.write('no test ran\n');
      return 1;
    }
    return code !== 0 || failed > 0 || counts.skipped > 0 ? 1 : 0;
  } finally {
    await stop();
  }
}

process.exitCode = await main();
