#!/usr/bin/env bash
# Lints the deployment files with the real tools, installing them into .cache/ when missing:
#   Prometheus rules   promtool check rules + promtool test rules (Debian's `prometheus` package)
#   Kubernetes         kubectl-validate (SIG CLI; built-in schemas of Kubernetes 1.30, offline)
#   Compose            compose-go, the loader `docker compose` uses (scripts/tools/compose-check)
#   systemd            systemd-analyze verify (any warning fails) and security --offline
# Called by scripts/integration.sh; the real-Prometheus evaluation of the alert rules against a
# running daemon is test/integration/prometheus.itest.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="$ROOT/.cache"
export GOPATH="$CACHE/go" GOCACHE="$CACHE/go-build" GOFLAGS=-modcacherw GOBIN="$CACHE/bin"
export PATH="$CACHE/bin:$PATH"
fail() { echo "check-deploy: $*" >&2; exit 1; }

# promtool: Debian's prometheus package (needs root for apt-get)
if ! command -v promtool >/dev/null; then
  echo "== installing prometheus (promtool) with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq prometheus >/dev/null
fi
echo "== promtool check rules / test rules"
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml
promtool check config --syntax-only deploy/prometheus/prometheus.yml

# Kubernetes manifests
if ! command -v kubectl-validate >/dev/null; then
  command -v go >/dev/null || fail "go is needed to install kubectl-validate"
  echo "== installing kubectl-validate (go install)" >&2
  go install sigs.k8s.io/kubectl-validate@v0.0.4
fi
echo "== kubectl-validate deploy/kubernetes"
kubectl-validate --version 1.30 deploy/kubernetes/

# Compose file
if [ ! -x "$CACHE/bin/compose-check" ] || [ scripts/tools/compose-check/main.go -nt "$CACHE/bin/compose-check" ]; then
  command -v go >/dev/null || fail "go is needed to build compose-check"
  echo "== building compose-check (compose-go)" >&2
  (cd scripts/tools/compose-check && go build -o "$CACHE/bin/compose-check" .)
fi
echo "== compose-check deploy/compose/compose.yaml"
compose-check deploy/compose/compose.yaml

# systemd unit: verify prints problems (unknown keys, bad values) as warnings with exit 0
if command -v systemd-analyze >/dev/null; then
  echo "== systemd-analyze verify deploy/systemd/stixgate.service"
  out=$(systemd-analyze verify deploy/systemd/stixgate.service 2>&1 || true)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  systemd-analyze security --offline=true --threshold=20 deploy/systemd/stixgate.service | tail -1
else
  echo "== systemd-analyze not available: the unit is not checked here" >&2
fi
echo "== deploy files: ok"
