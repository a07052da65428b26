/**
 * `npm run chaos`: the long form of the chaos suite (docs/reliability.md). Its own stack on its
 * own ports (CAREPIPE_CHAOS_PORTS=temporal,ui,s3, or free ones), state in .chaos/; a retrain over
 * a year of daily files, clean, then with each fault in turn; prints the table of faults and time
 * lost and exits 1 if any run's outputs differ, a row is unaccounted for or a shard was rewritten.
 * Options: --days N (365), --patients N (3000), --seed N, --s3-outage-seconds N (180).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../core/config.js';
import { ChaosStack, chaosPorts } from './chaos-stack.js';
import { faultTable, runScenario } from './scenario.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '365' },
    patients: { type: 'string', default: '3000' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    's3-outage-seconds': { type: 'string', default: '180' },
  },
});
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const seed = Number(values.seed);
log(`seed ${seed} (rerun with --seed ${seed} to replay the fault points)`);
const stack = await ChaosStack.start(join(REPO_ROOT, '.chaos'), await chaosPorts(), log);
try {
  const result = await runScenario(stack, {
    lake: { patients: Number(values.patients), days: Number(values.days), seed: 7, filesPerDay: 1, messiness: 'none' },
    faults: [
      { kind: 'kill-worker', times: 3 },
      { kind: 'restart-temporal', downMs: 10_000 },
      { kind: 's3-outage', downMs: Number(values['s3-outage-seconds']) * 1000 },
    ],
    seed,
    buckets: 16,
    log,
  });
  process.stdout.write(`${faultTable(result)}\n`);
  const bad = result.runs.filter((r) => r.differences.length || !r.rowsAccounted || r.rewritten.length);
  for (const r of bad) log(`${r.fault}: ${[...r.differences.slice(0, 10), ...r.rewritten].join('; ')}`);
  process.exitCode = bad.length ? 1 : 0;
} finally {
  await stack.down();
}
