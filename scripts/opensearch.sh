#!/usr/bin/env bash
# A local single-node OpenSearch for tests and benchmarks (docs/opensearch.md).
#
#   bash scripts/opensearch.sh start   # prints `export STIXGATE_OPENSEARCH_URL=http://127.0.0.1:<port>`
#   bash scripts/opensearch.sh status  # prints the cluster health, exit 1 when not running
#   bash scripts/opensearch.sh stop
#
# The distribution (org.opensearch.distribution.integ-test-zip:opensearch:<version>:zip, no
# bundled JDK, no security plugin: plain HTTP) is fetched once from Maven Central with
# `mvn dependency:copy` into .cache/opensearch/ and unpacked there. Each instance has its own
# config, data and log directories under .cache/opensearch-run/<instance>/.
#
# Environment:
#   STIXGATE_OPENSEARCH_VERSION   default 2.19.6 (2.19.x runs on Java 17; 3.x needs Java 21)
#   STIXGATE_OPENSEARCH_INSTANCE  default "default"; lets tests run a second, throw-away node
#   STIXGATE_OPENSEARCH_PORT      first HTTP port tried (default 9200; the next free one is used)
#   STIXGATE_OPENSEARCH_HEAP      default 512m
#   STIXGATE_OPENSEARCH_TIMEOUT   seconds to wait for yellow/green health (default 120)
#
# Only the export line goes to stdout; progress and errors go to stderr. Exit codes: 0 ok,
# 1 failed to start, 2 usage, 3 the distribution could not be fetched (blocked).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VERSION=${STIXGATE_OPENSEARCH_VERSION:-2.19.6}
INSTANCE=${STIXGATE_OPENSEARCH_INSTANCE:-default}
HEAP=${STIXGATE_OPENSEARCH_HEAP:-512m}
TIMEOUT=${STIXGATE_OPENSEARCH_TIMEOUT:-120}
CACHE="$ROOT/.cache/opensearch"
HOME_DIR="$CACHE/opensearch-$VERSION"
RUN="$ROOT/.cache/opensearch-run/$INSTANCE"
PIDFILE="$RUN/opensearch.pid"
PORTFILE="$RUN/http.port"

log() { echo "opensearch.sh: $*" >&2; }

case "$INSTANCE" in
  *[!A-Za-z0-9_-]* | '') log "STIXGATE_OPENSEARCH_INSTANCE must be letters, digits, _ or -"; exit 2 ;;
esac

java_home() {
  if [ -n "${OPENSEARCH_JAVA_HOME:-}" ]; then echo "$OPENSEARCH_JAVA_HOME"; return; fi
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME"; return; fi
  local java
  java=$(command -v java || true)
  if [ -z "$java" ]; then log "java not found (OpenSearch $VERSION needs Java 17+)"; exit 1; fi
  java=$(readlink -f "$java")
  dirname "$(dirname "$java")"
}

fetch() {
  [ -x "$HOME_DIR/bin/opensearch" ] && return 0
  mkdir -p "$CACHE"
  local zip="$CACHE/opensearch-$VERSION.zip"
  if [ ! -s "$zip" ]; then
    log "fetching org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip from Maven Central"
    local out
    if ! out=$(mvn -q -B dependency:copy \
      "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip" \
      "-DoutputDirectory=$CACHE" 2>&1); then
      echo "$out" | grep -E 'ERROR|Could not' | head -5 >&2 || echo "$out" | tail -20 >&2
      log "BLOCKED: Maven Central did not serve opensearch $VERSION"
      exit 3
    fi
  fi
  log "unpacking $zip"
  local tmp="$CACHE/.unpack.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  unzip -q "$zip" -d "$tmp"
  rm -rf "$HOME_DIR"
  mv "$tmp/opensearch-$VERSION" "$HOME_DIR"
  rm -rf "$tmp"
}

port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p=$1 last=$(($1 + 100))
  while [ "$p" -lt "$last" ]; do
    if ! port_taken "$p"; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  log "no free port in $1..$last"
  exit 1
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

health() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/_cluster/health?wait_for_status=yellow&timeout=4s" 2>/dev/null
}

tail_logs() {
  log "---- log tail ($RUN) ----"
  tail -n 40 "$RUN/logs/stixgate-$INSTANCE.log" >&2 2>/dev/null || true
  tail -n 20 "$RUN/launcher.log" >&2 2>/dev/null || true
}

start() {
  if pid=$(running_pid); then
    local port
    port=$(cat "$PORTFILE")
    if health "$port" >/dev/null; then
      log "already running (pid $pid, port $port)"
      echo "export STIXGATE_OPENSEARCH_URL=http://127.0.0.1:$port"
      return 0
    fi
    log "pid $pid is running but not healthy; stopping it"
    stop
  fi
  fetch
  local jh http_port transport_port
  jh=$(java_home)
  http_port=$(free_port "${STIXGATE_OPENSEARCH_PORT:-9200}")
  transport_port=$(free_port $((http_port + 100)))
  rm -rf "$RUN/config" "$RUN/logs"
  mkdir -p "$RUN/data" "$RUN/logs"
  cp -r "$HOME_DIR/config" "$RUN/config"
  # jvm.options names logs/ and data/ relative to OPENSEARCH_HOME (not writable by the node):
  # point them at this instance's directories.
  sed -i -e "s#logs/#$RUN/logs/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$RUN/data#" "$RUN/config/jvm.options"
  echo "$http_port" >"$PORTFILE"
  rm -f "$PIDFILE"
  # OpenSearch refuses to run as root: drop to nobody when started as root.
  local -a as_user=()
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody:nogroup "$RUN"
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  fi
  log "starting OpenSearch $VERSION ($INSTANCE) on 127.0.0.1:$http_port, heap $HEAP"
  (cd "$RUN" && env OPENSEARCH_JAVA_HOME="$jh" JAVA_HOME="$jh" OPENSEARCH_PATH_CONF="$RUN/config" \
    OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP ${STIXGATE_OPENSEARCH_JAVA_OPTS:-}" \
    "${as_user[@]}" "$HOME_DIR/bin/opensearch" -d -p "$PIDFILE" \
    -Ecluster.name="stixgate-$INSTANCE" -Enode.name="stixgate-$INSTANCE" \
    -Enetwork.host=127.0.0.1 -Ehttp.port="$http_port" -Etransport.port="$transport_port" \
    -Ediscovery.type=single-node -Epath.data="$RUN/data" -Epath.logs="$RUN/logs" \
    -Ecluster.routing.allocation.disk.threshold_enabled=false \
    -Eaction.destructive_requires_name=false \
    >"$RUN/launcher.log" 2>&1 </dev/null) || { log "launcher failed"; tail_logs; exit 1; }
  local deadline=$((SECONDS + TIMEOUT)) nopid=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if health "$http_port" >/dev/null; then
      log "healthy after ${SECONDS}s (pid $(cat "$PIDFILE" 2>/dev/null || echo '?'))"
      echo "export STIXGATE_OPENSEARCH_URL=http://127.0.0.1:$http_port"
      return 0
    fi
    if [ -f "$PIDFILE" ] && ! running_pid >/dev/null; then
      log "process exited during start-up"
      tail_logs
      exit 1
    fi
    if [ ! -f "$PIDFILE" ] && [ "$SECONDS" -gt "$nopid" ]; then
      log "no pid file after 30s: OpenSearch did not start"
      tail_logs
      exit 1
    fi
    sleep 1
  done
  log "not healthy within ${TIMEOUT}s"
  tail_logs
  stop
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PIDFILE"
    log "not running ($INSTANCE)"
    return 0
  fi
  log "stopping pid $pid ($INSTANCE)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PIDFILE"
}

status() {
  local pid port
  if ! pid=$(running_pid); then
    log "not running ($INSTANCE)"
    return 1
  fi
  port=$(cat "$PORTFILE")
  log "pid $pid, port $port"
  health "$port" >&2 || { log "not healthy"; return 1; }
  echo >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  pid) running_pid ;;
  *) log "usage: $0 start|stop|status|pid"; exit 2 ;;
esac
