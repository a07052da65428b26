/**
 * The pinned Go binaries of the local stack. Taken from PATH when present, else from the
 * git-ignored tools folder, else built once there with `go install` (no prebuilt binary can be
 * downloaded on these machines; the Go module proxy can be reached).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../core/errors.js';

export interface ToolSpec {
  name: string;
  module: string;
}

export const TOOLS = {
  // Later tags of the CLI carry a `replace` directive that breaks `go install`.
  temporal: { name: 'temporal', module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1' },
  versitygw: { name: 'versitygw', module: 'github.com/versity/versitygw/cmd/versitygw@v1.7.0' },
} as const satisfies Record<string, ToolSpec>;

export function findOnPath(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Returns the binary's path, building it if needed. `log` receives progress lines for people. */
export function ensureTool(tool: ToolSpec, toolsDir: string, log: (line: string) => void = () => {}): string {
  const onPath = findOnPath(tool.name);
  if (onPath) return onPath;
  const binDir = join(toolsDir, 'bin');
  const local = join(binDir, tool.name);
  if (existsSync(local)) return local;
  if (!findOnPath('go')) {
    throw new ConfigError(`${tool.name} is not on PATH and Go is not installed to build it: install Go, or put ${tool.name} on PATH.`);
  }
  mkdirSync(binDir, { recursive: true });
  log(`building ${tool.name} (${tool.module}) into ${binDir}: a few minutes, once`);
  const result = spawnSync('go', ['install', tool.module], {
    env: { ...process.env, GOBIN: binDir, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(local)) {
    throw new ConfigError(`go install ${tool.module} failed (exit ${result.status ?? result.signal}); see the output above.`);
  }
  return local;
}
