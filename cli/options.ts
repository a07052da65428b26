/**
 * The flags several commands share, each built once with its parser: a bad value is a usage error
 * at parse time (exit 2, before any config is read or anything connects), in one line that names
 * the flag and the value (cli/program.ts). Each builder returns a fresh `Option`, since commander
 * keeps the parsed value on the option's command. Defaults are given parsed, because commander
 * does not pass a default through the parser; the help shows them as typed.
 */
import { InvalidArgumentError, Option } from 'commander';
import { type ConfigOverrides, type EnvVar, parseLakeUri } from '../core/config.js';
import { isIngestDate } from '../data-lake/layout.js';
import { DEFAULT_BUCKET_COUNT, IMPLEMENTED_FAMILIES, MODEL_FAMILIES, type ModelFamily } from '../schemas/workflows.js';

/** A parser that refuses with `sentence`, for commander to report as a usage error. */
export function refuse(sentence: string): never {
  throw new InvalidArgumentError(sentence);
}

/** Wraps a check that throws a carepipe error (e.g. parseLakeUri's ConfigError) into a flag parser. */
function parser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      return refuse(err instanceof Error ? err.message.replace(/\.$/, '') : String(err));
    }
  };
}

export function wholeNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    return Number.isInteger(n) && n >= min && n <= max ? n : refuse(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  };
}

/** A date YYYY-MM-DD that exists on the calendar (2025-13-01 does not). */
export function ingestDate(flag: string): (value: string) => string {
  return (value) => (isIngestDate(value) ? value : refuse(`${flag} must be a date YYYY-MM-DD, got "${value}"`));
}

/**
 * Dataset and model names: the rule workflows/validate.ts `checkName` applies to a run's input,
 * checked here so a bad name stops the command before anything starts.
 */
export function name(flag: string): (value: string) => string {
  return (value) =>
    /^[a-z0-9][a-z0-9_-]{0,62}$/.test(value)
      ? value
      : refuse(`${flag} must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter or digit, got "${value}"`);
}

/** `logreg,mlp`: known families that have a trainer, each once. */
export function parseFamilies(list: string): ModelFamily[] {
  const families = list
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const f of families) {
    if (!(MODEL_FAMILIES as readonly string[]).includes(f)) refuse(`--families: unknown family "${f}"; known: ${MODEL_FAMILIES.join(', ')}`);
    if (!IMPLEMENTED_FAMILIES.includes(f as ModelFamily)) refuse(`--families: "${f}" has no trainer yet; available: ${IMPLEMENTED_FAMILIES.join(', ')}`);
  }
  if (families.length === 0) refuse('--families must name at least one family');
  return [...new Set(families)] as ModelFamily[];
}

/** Builders take `withDefault: false` where absence means "unchanged" (e.g. `schedule update`). */
export const options = {
  lake: (description = 'lake URI (s3://bucket/prefix or file:///path); default CAREPIPE_LAKE') =>
    new Option('--lake <uri>', description).argParser(parser((v) => parseLakeUri(v, '--lake').uri)),
  buckets: (withDefault = true) => {
    const o = new Option('--buckets <n>', 'patient buckets of the curated zone (1 to 4096)').argParser(wholeNumber('--buckets', 1, 4096));
    return withDefault ? o.default(DEFAULT_BUCKET_COUNT) : o;
  },
  date: (flags: `--${string} <date>`, description: string) => new Option(flags, description).argParser(ingestDate(flags.split(' ')[0]!)),
  dataset: (withDefault = true) => {
    const o = new Option('--dataset <name>', 'feature dataset name').argParser(name('--dataset'));
    return withDefault ? o.default('readmission') : o;
  },
  model: (description = 'registry model name', withDefault = true) => {
    const o = new Option('--model <name>', description).argParser(name('--model'));
    return withDefault ? o.default('readmission-30d') : o;
  },
  families: (description = `comma-separated model families (${MODEL_FAMILIES.join(', ')})`, withDefault = true) => {
    const o = new Option('--families <list>', description).argParser(parseFamilies);
    return withDefault ? o.default(['logreg'], 'logreg') : o;
  },
};

/** Values of the shared flags once parsed. */
export interface SharedOptionValues {
  lake?: string;
  buckets: number;
  dataset: string;
  model: string;
  families: ModelFamily[];
}

/**
 * Flags that stand in for a variable (`--metrics-port` for CAREPIPE_METRICS_PORT), as overrides
 * for core/config.ts: read by the variable's own rules, refused naming the flag.
 */
export function configOverrides(flags: readonly (readonly [flag: string, variable: EnvVar, value: string | undefined])[]): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [flag, variable, value] of flags) if (value !== undefined) out[variable] = { value, flag };
  return out;
}
