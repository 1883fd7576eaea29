#!/usr/bin/env bash
# Installs the benchmark peers of `npm run bench -- peers` into .cache/peers (ignored by git), without
# root and without internet beyond PyPI and Debian's archive:
#   .cache/peers/intelmq-venv  IntelMQ 3.x from PyPI (scripts/peers/requirements-intelmq.txt)
#   .cache/peers/redis         Debian's redis-server (and the two libraries it links) unpacked with dpkg -x
# Idempotent: a second run only checks. Prints where each peer is.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
# the real path: the venv records it, and .cache may be a link shared by several checkouts
PEERS="$(realpath .cache)/peers"
mkdir -p "$PEERS"

VENV="$PEERS/intelmq-venv"
req=scripts/peers/requirements-intelmq.txt
stamp="$PEERS/intelmq.$(sha1sum < "$req" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
echo "intelmq $("$VENV/bin/python" -c 'import intelmq; print(intelmq.__version__)') in $VENV"

REDIS="$PEERS/redis"
if [ ! -x "$REDIS/usr/bin/redis-check-rdb" ]; then
  debs="$PEERS/redis-deb"
  mkdir -p "$debs"
  # redis-server is a link to redis-check-rdb (in redis-tools); liblzf and jemalloc are its libraries
  (cd "$debs" && apt-get download redis-server redis-tools liblzf1 libjemalloc2)
  for d in "$debs"/*.deb; do dpkg -x "$d" "$REDIS"; done
fi
LD_LIBRARY_PATH="$REDIS/usr/lib/x86_64-linux-gnu" "$REDIS/usr/bin/redis-server" --version
