/** `schedule create` and `schedule update`: what a schedule starts (a retrain), when, and under which policies. */
import { ScheduleAlreadyRunning, type ScheduleOptions } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { type Command, Option } from 'commander';
import { loadConfig } from '../../../core/config.js';
import { resolveCliIdentity } from '../../identity.js';
import { InvalidInputError } from '../../../core/errors.js';
import { SA_MODEL, SA_TRIGGER } from '../../../schemas/search-attributes.js';
import type { RetrainInput } from '../../../schemas/workflows.js';
import { codeVersion } from '../../code-version.js';
import { action, printJson, say } from '../../output.js';
import { retrainInput } from '../retrain.js';
import { scoreInput } from '../score.js';
import type { ScoreInput } from '../../../schemas/score.js';
import { WORKFLOW_TYPES } from '../../../schemas/names.js';
import { withClient } from './client.js';
import { addRetrainOptions, addWhenAndPolicyOptions, type ScheduleFlags } from './options.js';
import { checkScheduleId, OVERLAP } from './parse.js';
import { describeJson, describeLines } from './render.js';
import { actionOf, parseWhen, scoreActionOf, specOf, touchesWhen } from './when.js';

type CreateFlags = Required<Pick<ScheduleFlags, 'model' | 'dataset' | 'families' | 'buckets'>> &
  ScheduleFlags & { paused?: boolean; note?: string; workflow?: 'retrain' | 'score' };

export function addCreate(schedule: Command): void {
  addRetrainOptions(
    addWhenAndPolicyOptions(
      schedule
        .command('create')
        .description('create a schedule that starts retrainWorkflow, or scoreWorkflow with --workflow score (runs carry CarepipeTrigger=schedule)')
        .argument('<id>', 'schedule id', checkScheduleId),
      true,
    ),
    true,
  )
    .addOption(
      new Option(
        '--workflow <type>',
        'what the schedule starts: retrain, or score (batch scores with the champion; --families, --buckets and --ingest do not apply)',
      )
        .choices(['retrain', 'score'])
        .default('retrain'),
    )
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule (e.g. why it is paused)')
    .option('--json', 'print the schedule as JSON')
    .action(
      action(async (id: string, opts: CreateFlags) => {
        const config = loadConfig();
        const score = opts.workflow === 'score';
        const scoring: ScoreInput | undefined = score
          ? { ...scoreInput({ lake: opts.lake, model: opts.model, dataset: opts.dataset }, config, await resolveCliIdentity(config)), trigger: 'schedule' }
          : undefined;
        const input: RetrainInput | ScoreInput = scoring ?? {
          // The schedule's runs act as whoever created it: their permission is checked at each run.
          ...retrainInput({ ...opts, ingest: false }, config, await resolveCliIdentity(config)),
          trigger: 'schedule',
          ...(opts.ingest !== false ? { ingest: {} } : {}),
        };
        const when = parseWhen(opts);
        const options: ScheduleOptions = {
          scheduleId: id,
          spec: specOf(when),
          action: scoring ? scoreActionOf(config, id, scoring, when) : actionOf(config, id, input as RetrainInput, when),
          policies: { overlap: OVERLAP[opts.overlap ?? 'skip'], catchupWindow: opts.catchupWindow ?? 3_600_000, pauseOnFailure: opts.pauseOnFailure ?? true },
          memo: { when },
          typedSearchAttributes: new TypedSearchAttributes([
            { key: SA_MODEL, value: input.model },
            { key: SA_TRIGGER, value: 'schedule' },
          ]),
          state: { paused: opts.paused ?? false, ...(opts.note ? { note: opts.note } : {}) },
        };
        await withClient(async (client) => {
          const handle = await client.schedule.create(options).catch((err: unknown) => {
            throw err instanceof ScheduleAlreadyRunning
              ? new InvalidInputError(`schedule "${id}" already exists: change it with \`carepipe schedule update ${id}\``, { cause: err })
              : err;
          });
          const d = describeJson(await handle.describe());
          if (opts.json) return printJson(d);
          say(`created schedule ${id}`);
          for (const line of describeLines(config, d)) say(line);
        });
      }),
    );
}

export function addUpdate(schedule: Command): void {
  addRetrainOptions(addWhenAndPolicyOptions(schedule.command('update <id>').description('change a schedule: only the options given change'), false), false)
    .option('--json', 'print the schedule as JSON')
    .action(
      action(async (id: string, opts: ScheduleFlags) =>
        withClient(async (client, config) => {
          const handle = client.schedule.getHandle(id);
          const current = await handle.describe();
          const previousWhen = describeJson(current).when ?? undefined;
          if (!previousWhen && !touchesWhen(opts))
            throw new InvalidInputError(`schedule "${id}" was not made by carepipe schedule create: give its timing (--cron or --every)`);
          const when = touchesWhen(opts) ? parseWhen(opts, previousWhen) : previousWhen!;
          const prevInput = current.action.args?.[0] as RetrainInput | undefined;
          if (!prevInput) throw new InvalidInputError(`schedule "${id}" has no retrain input: recreate it with carepipe schedule create`);
          const scoring = current.action.type === 'startWorkflow' && current.action.workflowType === WORKFLOW_TYPES.score;
          const changed: Partial<RetrainInput> = {
            ...(opts.lake !== undefined ? { lake: opts.lake } : {}),
            ...(opts.model !== undefined ? { model: opts.model } : {}),
            ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
            ...(opts.families !== undefined ? { families: opts.families } : {}),
            ...(opts.buckets !== undefined ? { bucketCount: opts.buckets } : {}),
          };
          if (scoring && (opts.families !== undefined || opts.buckets !== undefined || opts.ingest !== undefined))
            throw new InvalidInputError(`schedule "${id}" scores: --families, --buckets and --ingest apply to retrain schedules`);
          // A changed retrain runs the code of the carepipe that changed it.
          const input: RetrainInput = {
            ...prevInput,
            actor: await resolveCliIdentity(config),
            ...changed,
            ...(Object.keys(changed).length ? { codeVersion: codeVersion() } : {}),
            trigger: 'schedule',
          };
          if (opts.ingest === true) input.ingest = {};
          if (opts.ingest === false) delete input.ingest;
          await handle.update((prev) => ({
            ...prev,
            spec: touchesWhen(opts) ? specOf(when) : prev.spec,
            // The update's action type is the retrain's; the server takes either workflow type.
            action: scoring
              ? (scoreActionOf(config, id, { ...(prevInput as unknown as ScoreInput), ...(changed as Partial<ScoreInput>) }, when) as unknown as ReturnType<
                  typeof actionOf
                >)
              : actionOf(config, id, input, when),
            policies: {
              overlap: opts.overlap !== undefined ? OVERLAP[opts.overlap] : prev.policies.overlap,
              catchupWindow: opts.catchupWindow ?? prev.policies.catchupWindow,
              pauseOnFailure: opts.pauseOnFailure ?? prev.policies.pauseOnFailure,
            },
            state: { paused: prev.state.paused, ...(prev.state.note ? { note: prev.state.note } : {}) },
          }));
          const d = describeJson(await handle.describe());
          if (opts.json) return printJson(d);
          say(`updated schedule ${id}`);
          for (const line of describeLines(config, d)) say(line);
        }),
      ),
    );
}
