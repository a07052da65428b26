/**
 * `carepipe`: the command line. Every command has --help; commands that report take --json.
 * Exit codes: 0 ok, 1 the run failed, 2 bad arguments or configuration, 3 a service is unreachable.
 */
import type { Command } from 'commander';
import { COMMANDS, isCommandName, LOADERS } from './command-list.js';
import { EXIT } from './output.js';
import { CarepipeCommand } from './program.js';

/**
 * The program for `argv`: with a known command, that command's full definition (its module
 * loaded); otherwise every command by name and description only, which is all `carepipe --help`
 * and a usage error need, so they answer without loading Temporal, the AWS SDK or Arrow.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new CarepipeCommand('carepipe')
    .description('Raw hospital extracts -> de-identified features -> evaluated, versioned clinical risk models, on Temporal.')
    .showHelpAfterError('(run with --help for usage)')
    .option('--token <jwt>', 'your access token, in place of CAREPIPE_TOKEN: who the runs you start act as (see docs/security.md)')
    // The flag stands in for the variable, so every command reads the identity one way (cli/identity.ts).
    .hook('preAction', (cmd) => {
      const token = cmd.opts<{ token?: string }>().token;
      if (token !== undefined) process.env.CAREPIPE_TOKEN = token;
    })
    .exitOverride((err) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') process.exit(EXIT.ok);
      process.exit(EXIT.usage);
    });
  // `carepipe help retrain` shows retrain's own help, so it loads retrain too.
  const name = argv[2] === 'help' ? argv[3] : argv[2];
  if (isCommandName(name)) (await LOADERS[name]())(program);
  else for (const [command, description] of Object.entries(COMMANDS)) program.command(command).description(description);
  return program;
}

await (await buildProgram()).parseAsync(process.argv);
