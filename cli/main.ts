/**
 * `carepipe`: the command line. Every command has --help; commands that report take --json.
 * Exit codes: 0 ok, 1 the run failed, 2 bad arguments or configuration, 3 a service is unreachable.
 */
import { Command } from 'commander';
import { registerBackfill } from './commands/backfill.js';
import { registerCodecServer } from './commands/codec-server.js';
import { registerDemo } from './commands/demo.js';
import { registerFeatures } from './commands/features.js';
import { registerGenerate } from './commands/generate.js';
import { registerIngest } from './commands/ingest.js';
import { registerModels } from './commands/models.js';
import { registerRetrain } from './commands/retrain.js';
import { registerSchedule } from './commands/schedule.js';
import { registerStack } from './commands/stack.js';
import { registerWorker } from './commands/worker.js';
import { EXIT } from './output.js';

export function buildProgram(): Command {
  const program = new Command('carepipe')
    .description('Raw hospital extracts -> de-identified features -> evaluated, versioned clinical risk models, on Temporal.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride((err) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') process.exit(EXIT.ok);
      process.exit(EXIT.usage);
    });
  registerStack(program);
  registerWorker(program);
  registerCodecServer(program);
  registerGenerate(program);
  registerIngest(program);
  registerFeatures(program);
  registerRetrain(program);
  registerSchedule(program);
  registerBackfill(program);
  registerModels(program);
  registerDemo(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
