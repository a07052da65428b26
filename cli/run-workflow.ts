/**
 * The one way a command starts a run: `retrain`, `features`, `ingest`, `backfill` and
 * `schedule trigger` each describe their run (a `RunCommand`: input, start, progress probe,
 * report) and `runWorkflowCommand` does the rest the same way for all of them: check the flags
 * before connecting, start, print the id and the Web UI link, return at once with `--no-wait`,
 * otherwise follow the progress query with the shared progress view (cli/progress.ts) and print
 * the result, as lines or as one JSON document with `--json`. A failed run exits 1, bad flags 2,
 * an unreachable Temporal 3 (cli/output.ts `action`).
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Workflow, WorkflowResultType } from '@temporalio/common';
import type { Command } from 'commander';
import { type Config, loadConfig, requireKeys } from '../core/config.js';
import type { Identity } from '../core/identity/roles.js';
import { resolveCliIdentity } from './identity.js';
import { RunFailedError } from './output.js';
import { createProgressView, progressMode, type ProgressSnapshot } from './progress.js';
import { watch } from './runs.js';
import { connectClient, workflowUrl } from './temporal.js';

/** The flags every run-starting command has (addRunFlags). */
export interface RunFlags {
  /** False with --no-wait. */
  wait?: boolean;
  json?: boolean;
}

/** A run that has been started. */
export interface StartedRun<W extends Workflow> {
  handle: WorkflowHandle<W>;
  /** Said after the id on the `started` line, e.g. `resuming <id>: 2025-01-02`. */
  note?: string;
  /** Fields every JSON document of this run carries besides workflowId and url (e.g. the schedule id). */
  json?: Record<string, unknown>;
}

/** What the command prints for a run's result, or for its failure. */
export interface RunReport {
  json?: Record<string, unknown>;
  lines?: string[];
}

export interface RunCommand<O extends RunFlags, I, W extends Workflow> {
  /** Checks the flags against each other and the config and builds the input, which carries the actor; runs before anything connects. */
  input(opts: O, config: Config, actor: Identity): I;
  start(client: Client, config: Config, input: I): Promise<StartedRun<W>>;
  /** The run's progress now, for the progress view (undefined while it has none to give). */
  probe(client: Client, workflowId: string): Promise<ProgressSnapshot | undefined>;
  report(result: WorkflowResultType<W>, input: I): Required<RunReport>;
  /**
   * What a failed run adds to its one-line error (e.g. the data-quality report), in either form;
   * with --json the document is the run's head, `error: { type, message }` and these fields.
   */
  failure?(err: RunFailedError, input: I, workflowId: string): RunReport | undefined;
}

/** Where a command runs: the real config, client and stdout by default; tests pass their own. */
export interface RunEnv {
  config: () => Config;
  connect: (config: Config) => Promise<Client>;
  write: (text: string) => void;
  /** Decides bars (a terminal) or plain lines (a pipe). */
  stdout: { isTTY?: boolean };
  pollMs: number;
  /** Who runs the command (default: resolveCliIdentity, from CAREPIPE_TOKEN or the dev identity). */
  actor?: (config: Config) => Promise<Identity>;
}

export const defaultRunEnv: RunEnv = {
  config: () => loadConfig(),
  connect: (config) => connectClient(config, requireKeys(config)),
  write: (text) => process.stdout.write(text),
  stdout: process.stdout,
  pollMs: 1_000,
};

/** Adds --no-wait and --json, worded the same on every command that starts a run. */
export function addRunFlags(cmd: Command): Command {
  return cmd
    .option('--no-wait', 'start the run, print its id and Web UI link, and return')
    .option('--json', 'print the run (and its result, unless --no-wait) as one JSON document');
}

export async function runWorkflowCommand<O extends RunFlags, I, W extends Workflow>(
  command: RunCommand<O, I, W>,
  opts: O,
  env: RunEnv = defaultRunEnv,
): Promise<void> {
  const config = env.config();
  const actor = await (env.actor ?? resolveCliIdentity)(config);
  const input = command.input(opts, config, actor);
  const json = (doc: Record<string, unknown>) => env.write(JSON.stringify(doc, null, 2) + '\n');
  const say = (line: string) => env.write(line + '\n');
  const client = await env.connect(config);
  try {
    const run = await command.start(client, config, input);
    const workflowId = run.handle.workflowId;
    const head = { workflowId, url: workflowUrl(config, workflowId), ...run.json };
    if (opts.json) {
      if (opts.wait === false) return json(head);
    } else {
      say(`started ${workflowId}${run.note ? ` (${run.note})` : ''}`);
      say(`  ${head.url}`);
      if (opts.wait === false) return;
    }
    const view = createProgressView(progressMode(opts.json, env.stdout), env.write);
    let result: WorkflowResultType<W>;
    try {
      result = await watch(
        run.handle,
        () => command.probe(client, workflowId),
        (p) => view.update(p),
        env.pollMs,
      ).finally(() => view.finish());
    } catch (err) {
      if (!(err instanceof RunFailedError)) throw err;
      // The one-line error goes to stderr (action()); stdout says what the run adds, in either form.
      const extra = command.failure?.(err, input, workflowId);
      if (opts.json) json({ ...head, error: { type: err.failureType ?? null, message: err.message }, ...extra?.json });
      else for (const line of extra?.lines ?? []) say(line);
      throw err;
    }
    const report = command.report(result, input);
    if (opts.json) json({ ...head, ...report.json });
    else for (const line of report.lines) say(line);
  } finally {
    await client.connection.close();
  }
}
