/**
 * How commands talk to people and scripts: human lines on stdout, or one JSON document with
 * --json; errors as one line on stderr with an exit code that means something.
 */
import { ConfigError, InvalidInputError, NotFoundError } from '../core/errors.js';

export const EXIT = {
  ok: 0,
  /** The run itself failed (a workflow failed, a gate rejected when asked to fail on it). */
  failed: 1,
  /** Bad arguments or configuration. */
  usage: 2,
  /** Temporal or the object store could not be reached. */
  unreachable: 3,
} as const;

export class UnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnreachableError';
  }
}

export class RunFailedError extends Error {
  /** The workflow's failure type (e.g. DataQualityError) and details, when it failed with an application failure. */
  readonly failureType: string | undefined;
  readonly details: readonly unknown[];
  constructor(message: string, options?: { cause?: unknown; failureType?: string; details?: readonly unknown[] }) {
    super(message, options);
    this.name = 'RunFailedError';
    this.failureType = options?.failureType;
    this.details = options?.details ?? [];
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** Runs a command body; maps errors to a one-line message and an exit code. */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await body(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`carepipe: ${message}\n`);
      // Something named on the command line that does not exist is a usage error too.
      process.exitCode =
        err instanceof ConfigError || err instanceof InvalidInputError || err instanceof NotFoundError
          ? EXIT.usage
          : err instanceof UnreachableError
            ? EXIT.unreachable
            : EXIT.failed;
    }
  };
}
