import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { readAlias } from '../../activities/registry/aliases.js';
import { readAuditStream, verifyAuditStream } from '../../activities/registry/audit.js';
import { bindAuditKeys } from '../../activities/audit/log.js';
import { auditKeyRing } from '../../activities/audit/chain.js';
import { listModels, listVersions } from '../../activities/registry/catalog.js';
import { readMetadata } from '../../activities/registry/metadata.js';
import { openStore } from '../../activities/io/open-store.js';
import { type Config, loadConfig, parseLakeUri, requireKeys } from '../../core/config.js';
import { ConfigError, NotFoundError } from '../../core/errors.js';
import { lake as layout } from '../../data-lake/layout.js';
import { taskQueue } from '../../schemas/names.js';
import { DEFAULT_GATE, type PromotionResult } from '../../schemas/workflows.js';
import { promoteWorkflow, promotionLockId } from '../../workflows/promote.js';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { options } from '../options.js';
import { RunFailedError, action, printJson, say } from '../output.js';
import { compactStamp } from '../runs.js';
import { connectClient } from '../temporal.js';
import { resolveCliIdentity } from '../identity.js';

interface LakeOption {
  lake?: string;
  json?: boolean;
}

function storeFor(config: Config, opts: LakeOption) {
  const location = parseLakeUri(opts.lake ?? config.lake.uri, '--lake');
  return { uri: location.uri, store: openStore(location, config.s3) };
}

/** Moves the champion through promoteWorkflow, under the model's promotion lock, like retraining does. */
async function moveChampion(
  config: Config,
  lakeUri: string,
  model: string,
  version: string,
  mode: 'force' | 'rollback',
  reason: string,
): Promise<PromotionResult> {
  const actor = await resolveCliIdentity(config);
  const client = await connectClient(config, requireKeys(config));
  try {
    return await client.workflow.execute(promoteWorkflow, {
      workflowId: promotionLockId(model),
      taskQueue: taskQueue(config.temporal.queuePrefix, 'orchestration'),
      args: [{ lake: lakeUri, model, version, gate: DEFAULT_GATE, workflowId: `cli/${mode}/${compactStamp()}`, mode, reason, actor }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new RunFailedError(`another promotion of ${model} is running (${promotionLockId(model)}); try again when it ends`, { cause: err });
    // A refusal (ForbiddenError naming role and permission) or another failure: say it, not just "failed".
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure)
      throw new RunFailedError(`${mode === 'force' ? 'promotion' : 'rollback'} of ${model} failed: ${err.cause.message}`, {
        cause: err,
        failureType: err.cause.type ?? undefined,
      });
    throw err;
  } finally {
    await client.connection.close();
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description(COMMANDS.models);
  models
    .command('list')
    .description('models, or the versions of one model with their test ROC AUC and the champion marked')
    .argument('[model]', 'a model name')
    .addOption(options.lake('lake URI; default CAREPIPE_LAKE'))
    .option('--json', 'print as JSON')
    .action(
      action(async (model: string | undefined, opts: LakeOption) => {
        const config = loadConfig();
        const { store } = storeFor(config, opts);
        try {
          if (!model) {
            const names = await listModels(store);
            return opts.json ? printJson({ models: names }) : say(names.length ? names.join('\n') : 'no models yet');
          }
          const versions = await listVersions(store, model);
          if (opts.json) return printJson({ model, versions });
          if (versions.length === 0) return say(`${model}: no versions`);
          for (const v of versions) {
            say(
              `${v.champion ? '*' : ' '} ${v.version}  ${v.family.padEnd(6)}  AUC ${v.rocAuc.toFixed(4)}  ECE ${v.ece.toFixed(4)}  gate ${v.gate ?? '-'}  ${v.dataset}`,
            );
          }
        } finally {
          store.close();
        }
      }),
    );
  models
    .command('show')
    .description("one version's metadata (lineage, hyperparameters, metrics, gate), or the champion's")
    .argument('<model>', 'model name')
    .argument('[version]', 'a version id, or "champion"', 'champion')
    .addOption(options.lake('lake URI; default CAREPIPE_LAKE'))
    .option('--json', 'print as JSON')
    .action(
      action(async (model: string, version: string, opts: LakeOption) => {
        const config = loadConfig();
        const { store, uri } = storeFor(config, opts);
        try {
          const resolved = version === 'champion' ? (await readAlias(store, model)).doc?.version : version;
          if (!resolved) throw new NotFoundError(`${model} has no champion yet`);
          const metadata = await readMetadata(store, model, resolved);
          if (!metadata) throw new NotFoundError(`${model} has no version ${resolved}`);
          bindAuditKeys(store, { ring: auditKeyRing(requireKeys(config)) });
          const audit = await readAuditStream(store, `registry-${model}`);
          const chain = await verifyAuditStream(store, `registry-${model}`);
          if (opts.json) return printJson({ ...metadata, auditChain: chain });
          say(`${model} ${resolved}  (${metadata.family}, ${metadata.backend}, created ${metadata.created})`);
          say(
            `  test ROC AUC ${metadata.metrics.rocAuc.toFixed(4)}, PR AUC ${metadata.metrics.prAuc.toFixed(4)}, Brier ${metadata.metrics.brier.toFixed(4)}, ECE ${metadata.metrics.ece.toFixed(4)} on ${metadata.metrics.testRows} stays`,
          );
          say(
            `  trained on ${metadata.trainingData.dataset}@${metadata.trainingData.version} (${metadata.trainingData.rows} stays, manifest sha256 ${metadata.trainingData.manifestSha256.slice(0, 12)})`,
          );
          say(`  gate: ${metadata.gate ? `${metadata.gate.decision}: ${metadata.gate.reason}` : 'not gated yet'}`);
          say(`  report: ${uri}/${layout.registryFile(model, resolved, 'report.html')}`);
          say(`  audit chain: ${chain.ok ? `${audit.length} records, intact` : `BROKEN at record ${chain.seq}: ${chain.problem}`}`);
        } finally {
          store.close();
        }
      }),
    );
  models
    .command('promote')
    .description("make a version the champion without the gate (audited, under the model's promotion lock; needs a worker)")
    .argument('<model>', 'model name')
    .argument('<version>', 'version id')
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .addOption(options.lake('lake URI; default CAREPIPE_LAKE'))
    .option('--json', 'print the result as JSON')
    .action(
      action(async (model: string, version: string, opts: LakeOption & { reason: string }) => {
        const config = loadConfig();
        const { uri, store } = storeFor(config, opts);
        const exists = await readMetadata(store, model, version).finally(() => store.close());
        if (!exists) throw new NotFoundError(`${model} has no version ${version}`);
        const result = await moveChampion(config, uri, model, version, 'force', opts.reason);
        if (opts.json) return printJson(result);
        say(`champion of ${model}: ${result.version} (was ${result.previousChampion ?? 'none'})`);
      }),
    );
  models
    .command('rollback')
    .description('move the champion back to the version it replaced (audited, under the promotion lock; needs a worker)')
    .argument('<model>', 'model name')
    .requiredOption('--reason <text>', 'why, for the audit trail')
    .addOption(options.lake('lake URI; default CAREPIPE_LAKE'))
    .option('--json', 'print the result as JSON')
    .action(
      action(async (model: string, opts: LakeOption & { reason: string }) => {
        const config = loadConfig();
        const { uri, store } = storeFor(config, opts);
        const alias = await readAlias(store, model).finally(() => store.close());
        if (!alias.doc) throw new NotFoundError(`${model} has no champion to roll back`);
        if (!alias.doc.previous) throw new ConfigError(`${model}'s champion ${alias.doc.version} replaced no earlier version: nothing to roll back to`);
        const result = await moveChampion(config, uri, model, alias.doc.previous, 'rollback', opts.reason);
        if (opts.json) return printJson(result);
        say(`champion of ${model}: ${result.version} (rolled back from ${result.previousChampion ?? 'none'})`);
      }),
    );
}
