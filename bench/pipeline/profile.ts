/**
 * Where a stage's CPU time goes: the `.cpuprofile` files `node --cpu-prof` wrote (one per worker
 * process and per worker thread: the curator pool's threads profile themselves too), summed into
 * self time per function.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Where a frame's code lives, coarsely: a package, a folder of carepipe's, node's internals, or the engine itself. */
function areaOf(where: string, name: string): string {
  if (where === '') return name.startsWith('(') ? name : 'native (fs, crypto, wasm, ...)';
  const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(where);
  if (pkg) return pkg[1]!;
  if (where.startsWith('node:')) return where.replace(/^node:(internal\/)?([^/:]+).*$/, 'node:$2');
  if (where.startsWith('wasm://')) return 'wasm';
  const ours = /^dist\/([^/]+\/[^/:]+)/.exec(where);
  return ours ? ours[1]! : where.replace(/:\d+$/, '');
}

/** The `top` functions by self time over every profile in `dir`, and self time by area. */
export function topSelfTime(
  dir: string,
  top = 15,
): { totalMs: number; files: number; functions: HotFunction[]; areas: { area: string; selfMs: number; share: number }[] } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map<string, { name: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!frame || frame.functionName === '(idle)') return; // waiting for work is not where time goes
      const where = frame.url ? `${frame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1}` : '';
      const name = frame.functionName || '(anonymous)';
      const key = `${name}@${where}`;
      const entry = self.get(key) ?? { name, where, us: 0 };
      entry.us += us;
      self.set(key, entry);
      const area = areaOf(where, name);
      areas.set(area, (areas.get(area) ?? 0) + us);
      totalUs += us;
    });
  }
  const functions = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, share: totalUs > 0 ? e.us / totalUs : 0 }));
  const byArea = [...areas]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([area, us]) => ({ area, selfMs: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, files: files.length, functions, areas: byArea };
}
