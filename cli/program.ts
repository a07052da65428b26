/**
 * The commander `Command` every carepipe command is made of. A flag whose parser refuses its value
 * (`.argParser()`, `.choices()`, cli/options.ts) is a usage error like any other: one line,
 * `carepipe: <sentence naming the flag and the value>`, exit 2, and no help text after it (the
 * sentence says what to give). Commander's other errors (an unknown option, a missing argument)
 * keep its own wording and the help hint. Kept light: `carepipe --help` loads this module.
 */
import { Command } from 'commander';
import { EXIT } from './output.js';

/**
 * The sentence for a refused flag value, from commander's message (`error: option '--x <v>'
 * argument 'y' is invalid. <the parser's sentence>`): the parser's own sentence, or for a
 * `.choices()` flag, `--x must be one of a, b, got "y"`.
 */
export function usageErrorLine(message: string): string {
  const option = /^error: option '(\S+)[^']*' argument '([\s\S]*?)' is invalid\. ([\s\S]*?)\n?$/.exec(message);
  if (option) {
    const [, flag, value, reason] = option as unknown as [string, string, string, string];
    const choices = /^Allowed choices are (.*)\.$/.exec(reason);
    return choices ? `${flag} must be one of ${choices[1]}, got "${value}"` : reason;
  }
  const argument = /^error: command-argument value '[\s\S]*?' is invalid for argument '[^']*'\. ([\s\S]*?)\n?$/.exec(message);
  return argument?.[1] ?? message;
}

export class CarepipeCommand extends Command {
  override createCommand(name?: string): CarepipeCommand {
    return new CarepipeCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    if (errorOptions?.code === 'commander.invalidArgument') {
      this.showHelpAfterError(false);
      this.configureOutput({ outputError: (_text, write) => write(`carepipe: ${usageErrorLine(message)}\n`) });
      return super.error(message, { ...errorOptions, exitCode: EXIT.usage });
    }
    return super.error(message, errorOptions);
  }
}
