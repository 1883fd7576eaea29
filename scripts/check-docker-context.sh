#!/usr/bin/env bash
# Builds what the Docker image builds, without Docker: copies exactly the files the Dockerfile's
# COPY instructions copy (the working tree's tracked and unignored files, as a clean clone has
# them) into a temporary directory, compiles them with the image's `npm run build`, checks that
# dist/ holds production code only, then assembles the runtime stage (dist, bin, mappings, config,
# package.json and the production dependencies only, as `npm prune --omit=dev` leaves them) and
# runs the compiled CLI there: --version, types, validate of the image's configuration and the
# health check against a running daemon on the configured port.
#
#   bash scripts/check-docker-context.sh        # called from .ci/run
#
# Needs node_modules installed (npm ci); dependencies are linked from it instead of installed again.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stixgate-docker.XXXXXX")
DAEMON_PID=
cleanup() {
  if [ -n "$DAEMON_PID" ]; then kill "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "check-docker-context: $*" >&2; exit 1; }

BUILD="$WORK/build"
RUNTIME="$WORK/runtime"
mkdir -p "$BUILD" "$RUNTIME"
# the files a clean clone holds (tracked, plus new files not ignored), relative to the root
git ls-files --cached --others --exclude-standard -z | xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\n" "{}"' > "$WORK/files"

# copy_into DEST_ROOT SRC DEST: the Docker COPY semantics for a path of the build context
copy_into() {
  local root=$1 src=$2 dest=$3 target
  case "$dest" in
    */|.) target="$root/${dest%/}/$(basename "$src")" ;;
    *) target="$root/$dest" ;;
  esac
  if [ -d "$src" ]; then
    grep -E "^${src%/}/" "$WORK/files" | while IFS= read -r f; do
      mkdir -p "$(dirname "$target/${f#"${src%/}/"}")"
      cp -p "$f" "$target/${f#"${src%/}/"}"
    done
  else
    grep -qxF "$src" "$WORK/files" || fail "Dockerfile copies $src, which is not in the repository"
    mkdir -p "$(dirname "$target")"
    cp -p "$src" "$target"
  fi
}

# walk_stage N: the COPY instructions of the Dockerfile's stage N. Stage 1 (build) copies into
# $BUILD; later stages copy the context into $RUNTIME, and `COPY --from=build /app/X` copies $BUILD/X
walk_stage() {
local want=$1 stage=0 line words from args dest root src rel w
while IFS= read -r line; do
  case "$line" in
    FROM*) stage=$((stage + 1)); continue ;;
    COPY*) ;;
    *) continue ;;
  esac
  [ "$stage" -eq "$want" ] || continue
  read -r -a words <<<"${line#COPY }"
  from=
  args=()
  for w in "${words[@]}"; do
    case "$w" in
      --from=*) from=${w#--from=} ;;
      --*) ;;
      *) args+=("$w") ;;
    esac
  done
  dest=${args[-1]}
  unset 'args[-1]'
  [ "${#args[@]}" -gt 1 ] && dest="${dest%/}/"
  root=$BUILD
  [ "$stage" -ge 2 ] && root=$RUNTIME
  for src in "${args[@]}"; do
    if [ -n "$from" ]; then
      [ "$from" = build ] || fail "unknown stage $from"
      rel=${src#/app/}
      [ "$rel" = node_modules ] && continue   # assembled below from the production dependency list
      [ -e "$BUILD/$rel" ] || fail "the runtime stage copies $src, which the build stage did not produce"
      mkdir -p "$RUNTIME/$(dirname "${dest#./}")"
      cp -a "$BUILD/$rel" "$RUNTIME/${dest#./}"
    else
      copy_into "$root" "$src" "$dest"
    fi
  done
done < Dockerfile
}

walk_stage 1
# RUN npm ci (the installed tree stands in for it), RUN npm run build
ln -s "$ROOT/node_modules" "$BUILD/node_modules"
echo "== docker context: npm run build on $(wc -l < "$WORK/files") tracked files, $(find "$BUILD" -name '*.ts' -not -path '*/node_modules/*' | wc -l) TypeScript files copied"
(cd "$BUILD" && npm run --silent build) || fail "the image's build fails on the files the Dockerfile copies"
[ -f "$BUILD/dist/src/cli.js" ] || fail "dist/src/cli.js was not produced"
stray=$(cd "$BUILD/dist" && find . -name '*.js' | grep -E '\.test\.js$|(^|/)(test|bench)/|test-kit|-testing\.js$|-bench\.js$' || true)
[ -z "$stray" ] || fail "dist/ holds test or benchmark code: $stray"
echo "== docker context: dist/ holds $(find "$BUILD/dist" -name '*.js' | wc -l) production files, no tests"

walk_stage 2
# the runtime stage's node_modules after `npm prune --omit=dev`: the production dependency tree
mkdir -p "$RUNTIME/node_modules"
npm ls --omit=dev --all --parseable 2>/dev/null | grep -F "$ROOT/node_modules/" | while IFS= read -r p; do
  rel=${p#"$ROOT/node_modules/"}
  case "$rel" in */node_modules/*) continue ;; esac   # nested copies come with their parent
  mkdir -p "$RUNTIME/node_modules/$(dirname "$rel")"
  ln -sfn "$p" "$RUNTIME/node_modules/$rel"
done
for dev in tsx esbuild typescript; do
  [ ! -e "$RUNTIME/node_modules/$dev" ] || fail "$dev is a runtime dependency (the image must not need it)"
done

cd "$RUNTIME"
node bin/stixgate.js --version >/dev/null || fail "the compiled CLI does not start without dev dependencies"
node bin/stixgate.js types >/dev/null || fail "stixgate types fails in the runtime image"
node bin/stixgate.js validate --config config/docker.yaml || fail "config/docker.yaml does not validate in the runtime image"

# the image's HEALTHCHECK against a daemon on a port other than the default (the check must follow it)
mkdir -p "$WORK/data"
sed -e "s#^data_dir: .*#data_dir: $WORK/data#" -e 's#listen_host: 0.0.0.0#listen_host: 127.0.0.1#' config/docker.yaml > "$WORK/docker-test.yaml"
# no source polls (the check must not reach the internet)
node -e '
  const fs = require("node:fs"); const Y = require("yaml"); const f = process.argv[1];
  const c = Y.parse(fs.readFileSync(f, "utf8")); c.sources = {}; fs.writeFileSync(f, Y.stringify(c));
' "$WORK/docker-test.yaml"
port=$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
health=$(sed -n 's/^HEALTHCHECK.*CMD \[\(.*\)\]$/\1/p; s/^  CMD \[\(.*\)\]$/\1/p' "$ROOT/Dockerfile" | head -1)
[ -n "$health" ] || fail "no HEALTHCHECK CMD in the Dockerfile"
STIXGATE_CONFIG="$WORK/docker-test.yaml" node dist/src/cli.js run --port "$port" >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
hc() { eval "set -- $(echo "$health" | tr ',' ' ')"; STIXGATE_CONFIG="$WORK/docker-test.yaml" "$@" >/dev/null 2>&1; }
ok=
for _ in $(seq 1 300); do
  if hc; then ok=1; break; fi
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; fail "the daemon exited"; }
  sleep 0.2
done
[ -n "$ok" ] || { cat "$WORK/daemon.log" >&2; fail "the HEALTHCHECK command never passed against a daemon on port $port"; }
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
hc && fail "the HEALTHCHECK command passes with no daemon running"
echo "== docker context: image build, runtime without dev tools, validate and health check on port $port: ok"
