/**
 * `carepipe --help` loads only the command list: no Temporal, AWS SDK, Arrow, Parquet or command
 * module (those cost about a second before anything is printed). A module-resolution hook records
 * every module the process loads; the same hook sees `retrain --help` load the retrain command, so
 * the check can fail.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliEnv, runCli } from '../helpers/cli.js';

const HEAVY = ['@temporalio', '@aws-sdk', 'apache-arrow', 'parquet-wasm', '@tensorflow', '/cli/commands/'];

/** Runs the CLI with a hook that appends each resolved module URL to a file; returns the URLs. */
async function modulesLoadedBy(args: string[]): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'carepipe-startup-'));
  const log = join(dir, 'modules.log');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      'export async function resolve(specifier, context, next) {',
      '  const result = await next(specifier, context);',
      `  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');`,
      '  return result;',
      '}',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  writeFileSync(log, '');
  const r = await runCli(args, cliEnv({ NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'register.mjs')).href}` }));
  return { code: r.code, stdout: r.stdout, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

test('carepipe --help lists the commands without loading Temporal, the AWS SDK, Arrow, Parquet or any command module', async (t) => {
  const r = await modulesLoadedBy(['--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^ {2}retrain\b/m);
  t.true(
    r.modules.some((m) => m.endsWith('/cli/command-list.js')),
    'the hook saw the command list',
  );
  t.deepEqual(
    r.modules.filter((m) => HEAVY.some((h) => m.includes(h))),
    [],
  );
});

test('a command loads its own module and what it needs, and no other command', async (t) => {
  const r = await modulesLoadedBy(['retrain', '--help']);
  t.is(r.code, 0);
  t.true(r.modules.some((m) => m.endsWith('/cli/commands/retrain.js')));
  t.true(
    r.modules.some((m) => m.includes('@temporalio')),
    'retrain starts workflows: the hook sees what it loads',
  );
  t.false(r.modules.some((m) => m.endsWith('/cli/commands/demo.js')));
});

test('carepipe help retrain shows the same help as carepipe retrain --help', async (t) => {
  const [viaHelp, viaFlag] = await Promise.all([runCli(['help', 'retrain'], cliEnv({})), runCli(['retrain', '--help'], cliEnv({}))]);
  t.is(viaHelp.code, 0);
  t.regex(viaHelp.stdout, /--accept-quality-breach/);
  t.is(viaHelp.stdout, viaFlag.stdout);
});
