/**
 * `npm run bench -- --only cli`: how long `carepipe --help` and `carepipe retrain --help` take to
 * answer (median of repeated runs), beside a bare `node -e ''` start in the same run: the floor
 * any Node command pays. Target: `carepipe --help` under 200 ms.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../core/config.js';
import { printTable } from './harness.js';

function medianMs(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function benchCliStartup(runs = 11): void {
  const bin = join(REPO_ROOT, 'bin', 'carepipe.js');
  const floor = medianMs(['-e', ''], runs);
  const rows = [
    ['carepipe --help', [bin, '--help']],
    ['carepipe retrain --help', [bin, 'retrain', '--help']],
  ] as const;
  printTable(
    `CLI start-up, median of ${runs} runs (reference: a bare \`node -e ''\` in the same run)`,
    ['command', 'ms', 'bare node ms', 'ratio'],
    [
      ...rows.map(([label, args]) => {
        const ms = medianMs([...args], runs);
        return [label, ms.toFixed(0), floor.toFixed(0), `${(ms / floor).toFixed(1)}x`];
      }),
    ],
  );
}
