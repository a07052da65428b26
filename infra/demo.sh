#!/usr/bin/env bash
# `npm run demo`: install what is missing, build, then run the demo (stack up, worker, data, retrain).
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/ensure-built.sh
exec node dist/cli/main.js demo "$@"
