#!/usr/bin/env bash
# Chromium for the console's browser test (test/integration/console-browser.itest.ts): Debian's
# `chromium` package, installed with apt-get when missing (needs root, as on CI). Prints the
# variable to export: STIXGATE_CHROMIUM=<path of the browser>.
set -euo pipefail
find_chromium() { command -v chromium || command -v chromium-browser || true; }
bin=${STIXGATE_CHROMIUM:-$(find_chromium)}
if [ -z "$bin" ]; then
  echo "== installing chromium with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  bin=$(find_chromium)
fi
[ -n "$bin" ] || { echo "chromium: not found after installing it" >&2; exit 1; }
"$bin" --version >&2
echo "export STIXGATE_CHROMIUM=$bin"
