#!/usr/bin/env bash
# Installs npm dependencies when missing or stale, then compiles (incrementally) to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx --no-install tsc -p tsconfig.json
