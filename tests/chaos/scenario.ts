/**
 * One chaos scenario: a retrain over a generated lake run clean, then once per fault with the
 * fault injected at random points of the run (seeded, so a failure can be replayed), each in a
 * bucket of its own over the same raw bytes. A faulted run must end as the clean one did: the
 * same bytes in curated/, features/, manifests/, rejects/ and quarantine/, the same model files
 * and metrics, every raw row accounted for, and no shard output PUT twice.
 */
import type { GeneratorInput } from '../../data-lake/generator/index.js';
import type { RetrainResult } from '../../schemas/workflows.js';
import type { ChaosStack } from './chaos-stack.js';
import { type Fault, injectFault } from './faults.js';
import { newLake, openChaosEnv, rawRows, resultThroughOutages, startChaosRetrain } from './jobs.js';
import { outputsOf, compareOutputs } from './outputs.js';

export interface ScenarioOptions {
  lake: GeneratorInput;
  faults: readonly Fault[];
  /** Seeds the fault points. */
  seed: number;
  buckets: number;
  log: (line: string) => void;
}

export interface FaultRun {
  fault: Fault['kind'];
  /** What was done, and when (ms after the run started). */
  injected: string[];
  runMs: number;
  /** runMs minus the clean run's. */
  lostMs: number;
  /** Differences from the clean run's outputs (empty: identical). */
  differences: string[];
  rowsAccounted: boolean;
  /** Shard outputs PUT more than once, with their counts. */
  rewritten: string[];
}

export interface ScenarioResult {
  cleanMs: number;
  runs: FaultRun[];
}

/** A small deterministic generator of fault points in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

export async function runScenario(stack: ChaosStack, opts: ScenarioOptions): Promise<ScenarioResult> {
  const env = await openChaosEnv(stack);
  const random = seededRandom(opts.seed);
  try {
    const run = async (name: string, during?: (startedAt: number, done: Promise<unknown>) => Promise<string[]>) => {
      const lake = await newLake(env, name, opts.lake);
      const started = Date.now();
      const handle = await startChaosRetrain(env, lake.uri, 'chaos', opts.buckets);
      const done: Promise<RetrainResult> = resultThroughOutages(handle);
      const injected = during ? await during(started, done) : [];
      const result = await done;
      const ms = Date.now() - started;
      const outputs = await outputsOf(lake.store);
      const i = result.ingest;
      const rowsAccounted = i !== null && i.rowsIn === rawRows(lake.generation) && i.rowsIn === i.accepted + i.corrected + i.rejected;
      lake.store.close();
      return { bucket: lake.bucket, prefix: lake.prefix, ms, outputs, injected, rowsAccounted };
    };

    opts.log('clean run');
    const clean = await run('clean');
    const cleanPuts = rewrittenShards(stack.putsPerKey(clean.bucket, clean.prefix));
    if (cleanPuts.length) throw new Error(`the clean run PUT shard outputs twice: ${cleanPuts.join(', ')}`);
    const runs: FaultRun[] = [];
    for (const fault of opts.faults) {
      opts.log(`fault: ${fault.kind}`);
      const r = await run(fault.kind, (startedAt, done) =>
        injectFault(fault, { stack, pool: env.pool, startedAt, cleanMs: clean.ms, random, done, log: opts.log }),
      );
      runs.push({
        fault: fault.kind,
        injected: r.injected,
        runMs: r.ms,
        lostMs: r.ms - clean.ms,
        differences: compareOutputs(clean.outputs, r.outputs),
        rowsAccounted: r.rowsAccounted,
        rewritten: rewrittenShards(stack.putsPerKey(r.bucket, r.prefix)),
      });
    }
    return { cleanMs: clean.ms, runs };
  } finally {
    await env.close();
  }
}

/** Shard outputs (curated generations, feature shards, model files) PUT more than once. */
export function rewrittenShards(puts: Map<string, number>): string[] {
  const shard = /^(curated\/[a-z_]+\/bucket=\d+\/gen-[^/]+\.parquet|features\/[^/]+\/[^/]+\/bucket=\d+\.parquet|registry\/[^/]+\/[^/]+\/model\.json)$/;
  return [...puts]
    .filter(([key, n]) => n > 1 && shard.test(key))
    .map(([key, n]) => `${key} x${n}`)
    .sort();
}

/** The table the suite prints: one line per fault. */
export function faultTable(result: ScenarioResult): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `clean run: ${s(result.cleanMs)}`,
    '| fault | injected | run | time lost | outputs | rows | shards rewritten |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of result.runs) {
    lines.push(
      `| ${r.fault} | ${r.injected.join('; ')} | ${s(r.runMs)} | ${s(r.lostMs)} | ${r.differences.length ? `${r.differences.length} differ` : 'identical'} | ${r.rowsAccounted ? 'all' : 'MISSING'} | ${r.rewritten.length ? r.rewritten.join(', ') : 'none'} |`,
    );
  }
  return lines.join('\n');
}
