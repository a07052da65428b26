#!/usr/bin/env bash
# Installs npm dependencies when missing or stale (infra/ensure-npm.sh), then compiles (incrementally) to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/ensure-npm.sh
npx --no-install tsc -p tsconfig.json
