import type { Command } from 'commander';
import { COMMANDS } from '../command-list.js';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, requireKeys } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import type { GeneratorInput } from '../../data-lake/generator/index.js';
import { QUEUE_ROLES } from '../../schemas/names.js';
import { installRuntime } from '../../workers/runtime.js';
import { createWorkers, runWorkers } from '../../workers/workers.js';
import { resolveCliIdentity } from '../identity.js';
import { createDeps } from '../deps.js';
import { featureQualityLines, ingestQualityLines } from '../quality.js';
import { action, say } from '../output.js';
import { followRetrain, startRetrain } from '../runs.js';
import { connectClient, workflowUrl } from '../temporal.js';
import { codeVersion } from '../code-version.js';
import { DEFAULT_BUCKET_COUNT } from '../../schemas/workflows.js';
import { generateInto, readGenerationRecord } from './generate.js';
import { bringUp } from './stack.js';
import { predictCurl, upServe } from '../../infra/serve-process.js';
import { serveSettings } from '../../serving/server.js';

/**
 * The demo's data set: small enough for a laptop minute, large enough for a real AUC, and 31
 * ingest days so every stay old enough to have had 30 days of follow-up is known to have had them.
 */
const DEMO_DATA: GeneratorInput = { patients: 3000, days: 31, seed: 7, startDate: '2025-01-01' };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(COMMANDS.demo)
    .option('--model <name>', 'registry model name', 'readmission-30d')
    .option('--serve-port <n>', 'port of the `carepipe serve` the demo starts (CAREPIPE_SERVE_PORT, default 8235)')
    .action(
      action(async (opts: { model: string; servePort?: string }) => {
        const config = loadConfig();
        say('== local stack');
        const stack = await bringUp(config, (l) => say(`  ${l}`));
        say(`  Temporal ${stack.temporal.address}, Web UI ${stack.temporal.uiUrl}, S3 ${stack.s3.endpoint}`);
        const keys = requireKeys(config);
        const logger = createLogger('warn', { process: 'demo-worker' });
        const deps = createDeps(config, keys, logger, { curatorThreads: config.worker.curatorThreads });
        const store = deps.lake(config.lake.uri);

        say(`== synthetic data in ${config.lake.uri}/raw/`);
        const previous = await readGenerationRecord(store);
        const sameData = previous && JSON.stringify(previous.options) === JSON.stringify({ ...previous.options, ...DEMO_DATA });
        const generation = sameData ? previous.summary : await generateInto(config, store, DEMO_DATA, (l) => say(l));
        say(
          `  ${sameData ? 'reusing' : 'wrote'} ${generation.filesWritten} files; ${generation.indexStays} index stays, ` +
            `readmission rate ${(generation.readmissionRate * 100).toFixed(1)}%, Bayes-optimal ROC AUC ${generation.bayesAucComplete.toFixed(4)} on stays with full follow-up`,
        );

        say('== worker (all task queues, in this process)');
        installRuntime(logger);
        const connection = await NativeConnection.connect({ address: config.temporal.address });
        const workers = await createWorkers({ deps, connection, queues: QUEUE_ROLES, queuePrefix: config.temporal.queuePrefix });
        const running = runWorkers(workers);
        const client = await connectClient(config, keys);
        try {
          say('== retrainWorkflow: ingest -> features -> train -> evaluate -> gate -> promote');
          const handle = await startRetrain(client, config, {
            lake: config.lake.uri,
            actor: await resolveCliIdentity(config),
            model: opts.model,
            dataset: 'readmission',
            families: ['logreg'],
            bucketCount: DEFAULT_BUCKET_COUNT,
            trigger: 'manual',
            ingest: {},
            codeVersion: codeVersion(),
          });
          say(`  ${handle.workflowId}`);
          const result = await followRetrain(handle, (p) => say(`  stage: ${p.stage}`));
          const ingest = result.ingest;
          if (ingest) {
            say(
              `  ingest: ${ingest.files} files (${ingest.skippedFiles} unchanged, ${ingest.quarantinedFiles} quarantined), ` +
                `${ingest.rowsIn} rows in = ${ingest.accepted} accepted + ${ingest.corrected} corrected + ${ingest.rejected} rejected`,
            );
          }
          say(
            `  features: ${result.features.dataset}@${result.features.version}, ${result.features.rows} index stays in ${result.features.shards} shards ` +
              `(${result.features.skippedShards} unchanged)`,
          );
          for (const line of [...(ingest ? ingestQualityLines(ingest.quality).slice(0, 1) : []), ...featureQualityLines(result.features.quality).slice(0, 1)])
            say(`  ${line}`);
          const best = result.best;
          say('');
          say(result.promotion.promoted ? `promoted   ${opts.model} ${result.promotion.version}` : `not promoted: ${result.promotion.reason}`);
          say(
            `test AUC   ${best.metrics.rocAuc.toFixed(4)} (${best.family}, ${best.metrics.testRows} held-out stays) vs Bayes-optimal ${generation.bayesAucComplete.toFixed(4)} (all followed-up stays: the ceiling)`,
          );
          say(`lake       ${config.lake.uri}  (on disk: ${stack.s3.dataDir})`);
          say(`registry   ${config.lake.uri}/registry/${opts.model}/  (report: ${config.lake.uri}/${best.registryPrefix}report.html)`);
          say(
            `Web UI     ${workflowUrl(config, handle.workflowId)}${stack.codecServer ? `  (payloads decrypted by the codec server on ${stack.codecServer.endpoint})` : ''}`,
          );
          if (result.promotion.promoted || (await store.head(`registry/${opts.model}/aliases/champion.json`))) {
            await servePrediction(config.stateDir, config.lake.uri, opts.model, serveSettings(process.env, { port: opts.servePort }));
          }
          say('stop the stack (and the server) with `npm run stack:down`; run again to reuse everything');
        } finally {
          for (const w of workers) w.shutdown();
          await running;
          await client.connection.close();
          await connection.close();
          await deps.close();
        }
      }),
    );
}

/** Starts `carepipe serve` in the background (stopped by `stack down`), scores the example once, and prints the curl that does it. */
async function servePrediction(stateDir: string, lakeUri: string, model: string, settings: { host: string; port: number }): Promise<void> {
  const served = await upServe({ stateDir, host: settings.host, port: settings.port, lake: lakeUri, models: [model], log: (l) => say(`  ${l}`) });
  const curl = predictCurl(served.url, model);
  const res = await fetch(served.url + curl.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl.body });
  const answer = (await res.json()) as { version?: string; predictions?: { probability: number }[] };
  say(`serving    ${served.url}  (OpenAPI: ${served.url}/openapi.json; log: ${stateDir}/serve.log)`);
  say(`           ${model} ${answer.version ?? '?'}: P(readmission) = ${answer.predictions?.[0]?.probability.toFixed(4) ?? '?'} for the example below`);
  say(`predict    ${curl.command}`);
}
