#!/usr/bin/env bash
# Runs `npm ci` when node_modules is missing or does not hold what package-lock.json pins.
# Compared by content (npm's record of what it installed, node_modules/.package-lock.json), not
# by file times: a fresh checkout or worktree has a newer package-lock.json than a perfectly
# current node_modules, and `npm ci` there would throw a good install away. A node_modules that is
# a link (an install shared between worktrees) is never reinstalled from here: a stale one stops
# with a sentence instead, since `npm ci` through the link would rewrite the other tree's install.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints why node_modules differs from package-lock.json (nothing when it matches).
lock_drift() {
  node --input-type=module -e "
    import { existsSync, readFileSync } from 'node:fs';
    if (!existsSync('node_modules/.package-lock.json')) { console.log('npm has no record of this install'); process.exit(0); }
    const want = JSON.parse(readFileSync('package-lock.json', 'utf8')).packages;
    const have = JSON.parse(readFileSync('node_modules/.package-lock.json', 'utf8')).packages;
    const drift = [];
    for (const [path, p] of Object.entries(want)) {
      if (path === '') continue;
      const h = have[path];
      // Optional packages for other platforms are not installed: not a drift.
      if (!h) { if (!p.optional) drift.push(path + ' missing'); continue; }
      if (h.version !== p.version) drift.push(path + ' ' + h.version + ', pinned ' + p.version);
    }
    for (const path of Object.keys(have)) if (!(path in want)) drift.push(path + ' not in package-lock.json');
    if (drift.length) console.log(drift.length + ' packages differ (' + drift.slice(0, 3).join('; ') + ')');
  "
}

if [ ! -e node_modules ]; then
  echo "[npm] node_modules is missing: npm ci (the pinned npm packages; about a minute, once)" >&2
  npm ci --no-audit --no-fund
  exit 0
fi
drift=$(lock_drift)
[ -z "$drift" ] && exit 0
if [ -L node_modules ]; then
  echo "[npm] node_modules links to $(readlink node_modules), which does not match package-lock.json: $drift. Run npm ci in that tree." >&2
  exit 1
fi
echo "[npm] node_modules does not match package-lock.json ($drift): npm ci" >&2
npm ci --no-audit --no-fund
