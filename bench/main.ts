/**
 * `npm run bench`: every stage's benchmark on a private local stack, each printed as a table
 * beside a reference measured in the same run. `--only pipeline` (raw -> features beside polars
 * and DuckDB; its options in pipeline.ts) picks one (also trees, quality, cli, store); `--quick` uses
 * small scales (for a smoke run); `--scales a,b` sets the patient counts.
 */
import type { ModelFamily } from '../schemas/workflows.js';
import { benchCliStartup } from './cli-startup.js';
import { benchFileStoreListing } from './file-store-list.js';
import { benchPipeline, benchReferencesOnly, pipelineOptions } from './pipeline.js';
import { benchQuality } from './quality.js';
import { withBenchStack } from './harness.js';
import { benchTrees, treesOptions } from './trees.js';
import { benchServe } from './serve.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const only = flag('--only');

// Needs no stack: measured first, on a quiet machine.
if (!only || only === 'cli') benchCliStartup();
if (!only || only === 'store') await benchFileStoreListing(Number(flag('--store-files') ?? 1000));
// Needs no stack either: a file:// lake, the two servers as processes of their own.
if (!only || only === 'serve') await benchServe({ patients: quick ? 300 : 3000, seconds: Number(flag('--serve-seconds') ?? (quick ? 3 : 10)) });

const pipeline = pipelineOptions(args);
if (only === 'pipeline' && pipeline.referencesOnly) await benchReferencesOnly(pipeline);
else if (only !== 'cli' && only !== 'store' && only !== 'serve')
  await withBenchStack(async (addresses) => {
    if (!only || only === 'pipeline') await benchPipeline(addresses, pipeline);
    if (!only || only === 'trees') await benchTrees(treesOptions(args)); // --rows N --patients N --threads 1,2 --learners gbdt,rf,...
    if (!only || only === 'quality') {
      const families = (flag('--families') ?? 'logreg,gbdt,mlp').split(',') as ModelFamily[];
      await benchQuality(addresses, Number(flag('--quality-patients') ?? (quick ? 3000 : 200000)), families);
    }
  });
