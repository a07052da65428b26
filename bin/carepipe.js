#!/usr/bin/env node
// The `carepipe` command: runs the compiled CLI (npm ci builds it through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('carepipe: not built yet; run `npm run build` (npm ci does it) in the carepipe checkout.\n');
  process.exit(2);
}
await import(main);
