/**
 * The shared flags (cli/options.ts) as commander parses them: typed values and defaults, and a
 * refused value as the one line `carepipe: <sentence>` with exit code 2, naming the flag and the
 * value (cli/program.ts), for `.argParser()` and `.choices()` flags alike.
 */
import test from 'ava';
import { CommanderError } from 'commander';
import { durationMs, OVERLAP_NAMES } from '../../cli/commands/schedule/parse.js';
import { overlapOption } from '../../cli/commands/schedule/options.js';
import { options } from '../../cli/options.js';
import { CarepipeCommand, usageErrorLine } from '../../cli/program.js';

/** Parses `args` with the shared flags; returns the values, or what stderr got and the exit code. */
function parse(args: string[]): { values?: Record<string, unknown>; stderr: string; exitCode?: number } {
  let stderr = '';
  const program = new CarepipeCommand('carepipe').exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  let values: Record<string, unknown> | undefined;
  program
    .command('run')
    .addOption(options.lake())
    .addOption(options.buckets())
    .addOption(options.dataset())
    .addOption(options.model())
    .addOption(options.families())
    .addOption(options.date('--from <date>', 'first date'))
    .addOption(overlapOption('policy'))
    .action((opts: Record<string, unknown>) => {
      values = opts;
    });
  try {
    program.parse(['node', 'carepipe', 'run', ...args]);
    return { values, stderr };
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { stderr, exitCode: err.exitCode };
  }
}

test('the shared flags parse to typed values, with parsed defaults', (t) => {
  t.deepEqual(parse([]).values, { buckets: 32, dataset: 'readmission', model: 'readmission-30d', families: ['logreg'] });
  t.deepEqual(
    parse(['--lake', 's3://my-lake/prod/', '--buckets', '8', '--families', 'logreg,mlp,logreg', '--from', '2024-02-29', '--overlap', 'skip']).values,
    {
      lake: 's3://my-lake/prod',
      buckets: 8,
      dataset: 'readmission',
      model: 'readmission-30d',
      families: ['logreg', 'mlp'],
      from: '2024-02-29',
      overlap: 'skip',
    },
  );
});

test('a refused value is one line naming the flag and the value, exit code 2, no help after it', (t) => {
  const cases: [string[], string][] = [
    [['--buckets', '0'], '--buckets must be a whole number from 1 to 4096, got "0"'],
    [['--buckets', '8.5'], '--buckets must be a whole number from 1 to 4096, got "8.5"'],
    [['--from', '2025-02-29'], '--from must be a date YYYY-MM-DD, got "2025-02-29"'],
    [['--dataset', 'Readmission'], '--dataset must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got "Readmission"'],
    [['--model', 'a/b'], '--model must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got "a/b"'],
    [['--families', 'logreg,xgboost'], '--families: unknown family "xgboost"; known: logreg, mlp, rf, gbdt'],
    [['--lake', 'hdfs://x'], '--lake must start with s3:// or file://, got "hdfs://x"'],
    [['--overlap', 'sometimes'], `--overlap must be one of ${OVERLAP_NAMES.join(', ')}, got "sometimes"`],
  ];
  for (const [args, sentence] of cases) {
    const r = parse(args);
    t.is(r.exitCode, 2, args.join(' '));
    t.is(r.stderr, `carepipe: ${sentence}\n`);
  }
});

test("commander's other errors keep its own wording", (t) => {
  const r = parse(['--bogus']);
  t.is(r.exitCode, 1, "the program in main.ts maps this exit to 2; here exitOverride keeps commander's own code");
  t.regex(r.stderr, /^error: unknown option '--bogus'/);
  t.is(usageErrorLine("error: unknown option '--bogus'"), "error: unknown option '--bogus'");
});

test("durations are the SDK's Duration strings, with a unit, not below the flag's minimum", (t) => {
  const every = durationMs('--every', 1_000);
  t.is(every('6h'), 21_600_000);
  t.is(every('10 minutes'), 600_000);
  t.is(every('1.5h'), 5_400_000);
  t.is(durationMs('--jitter')('0s'), 0);
  for (const [value, sentence] of [
    ['60', '--every must be a duration with a unit, such as 90s, 15m, 6h or 1d, got "60"'],
    ['soon', '--every must be a duration with a unit, such as 90s, 15m, 6h or 1d, got "soon"'],
    ['500ms', '--every must be at least 1s, got "500ms"'],
    ['-1h', '--every must be at least 1s, got "-1h"'],
  ] as const) {
    t.throws(() => every(value), { message: sentence });
  }
});
