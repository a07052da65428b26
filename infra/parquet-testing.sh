#!/usr/bin/env bash
# Fetches apache/parquet-testing's data/ and bad_data/ at a pinned commit into
# .test-artifacts/parquet-testing/ for tests/activities/parquet-testing.test.ts (infra/test-deps.sh
# runs it), from the vendored copy in tests/fixtures/parquet-testing/ when it is the pinned commit, else by a shallow git fetch of the one commit: git checks every object's hash against the commit,
# so the files are exactly the pinned ones. Once fetched, a run only checks the stamp (milliseconds).
# CAREPIPE_PARQUET_TESTING_URL names another clone of the same repository (a mirror, a local path)
# for machines without access to GitHub; the commit is the same, so the files are too.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMIT=1a2a75127be06fc0123f03ebd36c966f7beda27d
url="${CAREPIPE_PARQUET_TESTING_URL:-https://github.com/apache/parquet-testing.git}"
dir=.test-artifacts/parquet-testing
say() { printf '[parquet-testing] %s\n' "$*" >&2; }
[ "$(cat "$dir/.commit" 2>/dev/null)" = "$COMMIT" ] && exit 0
# The same files are vendored in tests/fixtures/parquet-testing/ (4 MB; CI machines without access
# to GitHub), with the commit they came from: used when they are that commit.
vendored=tests/fixtures/parquet-testing
if [ "$(cat "$vendored/.commit" 2>/dev/null)" = "$COMMIT" ] && [ -z "${CAREPIPE_PARQUET_TESTING_URL:-}" ]; then
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && cp -r "$vendored" "$dir"
  exit 0
fi
say "fetching apache/parquet-testing@$COMMIT (data/, bad_data/; about 4 MB) from $url"
scratch="$dir.part"
rm -rf "$scratch"
mkdir -p "$scratch"
git -C "$scratch" init -q
git -C "$scratch" fetch -q --depth 1 "$url" "$COMMIT"
git -C "$scratch" -c advice.detachedHead=false checkout -q FETCH_HEAD -- data bad_data
[ "$(git -C "$scratch" rev-parse FETCH_HEAD)" = "$COMMIT" ] || { say "fetched $(git -C "$scratch" rev-parse FETCH_HEAD), not $COMMIT"; exit 1; }
rm -rf "$scratch/.git" "$dir"
echo "$COMMIT" >"$scratch/.commit"
mv "$scratch" "$dir"
say "present: $dir"
