#!/usr/bin/env bash
# The README's promise, checked: clones this repository's HEAD (committed work only) into a
# scratch folder and runs its two commands there, `npm run demo` then `npm test`, with a new HOME,
# so the npm, pip and Go caches start empty and nothing an engineer installed into the work tree
# (node_modules, .tools, .state) helps. What the machine itself has stays visible: Node, npm, Go,
# python3 and its site-packages, Debian's chromium. Long (npm ci, building the Go binaries, the
# whole suite), so `npm test` does not run it.
#
#   bash infra/fresh-clone-check.sh [SCRATCH_DIR]
#
# Ports: the demo's CAREPIPE_STACK_TEMPORAL_PORT/_UI_PORT/_S3_PORT and the tests'
# CAREPIPE_TEST_TEMPORAL_PORT/_UI_PORT/_S3_PORT pass through; set them on a machine where another
# stack already answers on the defaults, or the demo would reuse that one. The scratch folder is
# removed when both commands pass and kept for reading when one fails.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-$(mktemp -d /tmp/carepipe-fresh-XXXXXX)}
mkdir -p "$scratch"
clone="$scratch/carepipe"
say() { printf '\n== [fresh clone] %s\n' "$*"; }

say "cloning $(git -C "$repo" rev-parse --short HEAD) of $repo into $clone"
git clone --quiet --no-hardlinks "$repo" "$clone" || exit 1
git -C "$clone" checkout --quiet --detach "$(git -C "$repo" rev-parse HEAD)" || exit 1

# A new HOME empties every per-user cache (npm's ~/.npm, pip's ~/.cache/pip, Go's module and build
# caches under ~/go and ~/.cache). pyenv finds its interpreters through PYENV_ROOT, kept as it is.
export HOME="$scratch/home"
mkdir -p "$HOME"
export npm_config_cache="$HOME/.npm" PIP_CACHE_DIR="$HOME/.cache/pip"
export GOPATH="$HOME/go" GOCACHE="$HOME/.cache/go-build" GOMODCACHE="$HOME/go/pkg/mod"
unset CAREPIPE_TOOLS_DIR CAREPIPE_STATE_DIR
cd "$clone" || exit 1

say "npm run demo"
npm run demo
demo=$?
say "stopping the demo's stack"
node dist/cli/main.js stack down || true

say "npm test"
npm test 2>&1 | tee "$scratch/test.log"
tests=${PIPESTATUS[0]}
closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$scratch/test.log" | tail -n 1)

say "npm run demo: exit $demo; npm test: exit $tests (${closing:-no closing line})"
if [ "$demo" -eq 0 ] && [ "$tests" -eq 0 ]; then
  # The Go module cache is read-only by design; make it removable.
  chmod -R u+w "$scratch" 2>/dev/null
  rm -rf "$scratch"
  echo "fresh clone check passed"
  exit 0
fi
echo "fresh clone check failed: see $scratch (test log: $scratch/test.log)"
exit 1
