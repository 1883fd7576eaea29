#!/usr/bin/env bash
# Integration tests that need Python (and, for later suites, Java/Maven): installs what they need
# into .cache/ (ignored by git), starts servers on 127.0.0.1 only, runs test/integration/*.itest.ts,
# and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="$ROOT/.cache"
VENV="$CACHE/venv"
mkdir -p "$CACHE"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# every scripts/oracles/requirements*.txt (one per suite that needs Python packages)
reqs=$(ls scripts/oracles/requirements*.txt | sort)
stamp="$CACHE/venv.$(cat $reqs | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  for r in $reqs; do "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$r"; done
  touch "$stamp"
fi
export STIXGATE_PYTHON="$VENV/bin/python"

# Deployment files linted by real tools (promtool, kubectl-validate, compose-go, systemd-analyze);
# this also installs Prometheus, which test/integration/prometheus.itest.ts runs against a daemon.
bash scripts/check-deploy.sh
export PATH="$CACHE/bin:$PATH"
# Chromium (Debian's package) for the console's browser test
eval "$(bash scripts/chromium.sh)"

# Servers the integration tests use. Each start script prints the environment to export and is
# stopped on exit, whatever happens.
cleanup() {
  if [ -n "${OPENSEARCH_STARTED:-}" ]; then bash scripts/opensearch.sh stop || true; fi
  if [ -n "${MEDALLION_STARTED:-}" ]; then bash scripts/medallion.sh stop || true; fi
}
trap cleanup EXIT
if [ -f scripts/opensearch.sh ] && [ "${STIXGATE_SKIP_OPENSEARCH:-}" != 1 ]; then
  eval "$(bash scripts/opensearch.sh start)"
  OPENSEARCH_STARTED=1
fi
if [ -f scripts/medallion.sh ]; then
  eval "$(bash scripts/medallion.sh start)"
  MEDALLION_STARTED=1
fi

files=$(find test/integration -name '*.itest.ts' | sort)
# unit-test files with cases that skip unless a validator or an OpenSearch node is available run
# again here, where both are
extra=$(grep -rl --include='*.test.ts' -e 'VALIDATOR_SKIP\|STIXGATE_OPENSEARCH_URL\|STIXGATE_PYTHON' test integrations src | sort)
files="$files $extra"
if [ -z "$files" ]; then
  echo "no integration tests found" >&2
  exit 1
fi
# shellcheck disable=SC2086
TZ=${TZ:-Asia/Kolkata} STIXGATE_LOG_LEVEL=silent node --import tsx --test --test-concurrency=1 $files
