#!/usr/bin/env bash
# Runs the conformance suite against a homeserver image.
#
#   ./run.sh [go test args...]          e.g. ./run.sh -run 'TestSend'
#   ./run.sh --bench [bench flags...]   the benchmark instead (cmd/stickler-bench; -h lists flags)
#   ./run.sh --req SYNC-3,FED [args...] only the tests that cover these requirement IDs or groups
#   ./run.sh --list                     every requirement ID, its level and its tests
#
# Without COMPLEMENT_BASE_IMAGE it builds (if missing) and uses the project's image named by
# STICKLER_SERVER (synapse, the default; synapse-reference: Synapse with the project's patches
# that implement what it lacks; synapse-postgres: Synapse on PostgreSQL; dendrite; mixed: hs2
# Dendrite, the others Synapse; mixed-engines: hs1 Synapse on PostgreSQL, the others Synapse on
# SQLite) with its expectations file. Settings: see README.md. Exit codes: 0 every outcome as expected,
# 1 some test failed the run, 2 the run could not start (no Docker, no image, bad setting).
set -uo pipefail
cd "$(dirname "$0")"

die() { echo "run.sh: $*" >&2; exit 2; }

command -v go >/dev/null || die "Go is not installed (the suite needs Go 1.26 or newer)"

# --list / --req: the requirement map read from the tests' spec.Covers declarations
# (cmd/stickler-req), so it cannot drift from the tests.
req() {
  local bin; bin=$(mktemp -d) || die "mktemp failed"
  go build -o "$bin/stickler-req" ./cmd/stickler-req || { rm -rf "$bin"; die "building cmd/stickler-req failed"; }
  "$bin/stickler-req" "$@"; local rc=$?
  rm -rf "$bin"; return $rc
}
if [ "${1:-}" = "--list" ]; then
  req -list; exit $?
fi
case "${1:-}" in
  --req|--req=*)
    if [ "$1" = --req ]; then ids=${2:-}; shift; [ $# -gt 0 ] && shift; else ids=${1#--req=}; shift; fi
    [ -n "$ids" ] || die "--req needs requirement IDs or groups, e.g. --req SYNC-3,FED (./run.sh --list shows them)"
    for a in "$@"; do
      case "$a" in -run|-run=*|--run|--run=*|-test.run|-test.run=*) die "--req builds the -run pattern itself; give --req or -run, not both";; esac
    done
    pattern=$(req -v -run "$ids") || exit 2
    set -- -run "$pattern" "$@" ;;
esac
command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine: start it (or set DOCKER_HOST) and check that this user may use it"

if [ "${1:-}" = "--bench" ]; then
  shift
  exec go run ./cmd/stickler-bench "$@"
fi

case "${STICKLER_NAMES:-unstable}" in unstable|stable) ;; *) die "STICKLER_NAMES=$STICKLER_NAMES: want unstable or stable";; esac
case "${STICKLER_LOAD_REHEARSAL:-0}" in ''|0|[1-9]|[1-9][0-9]) ;; *) die "STICKLER_LOAD_REHEARSAL=$STICKLER_LOAD_REHEARSAL: want 0, 1 (one hog per core) or a number of hogs";; esac
case "${COMPLEMENT_SPAWN_HS_TIMEOUT_SECS:-60}" in ''|*[!0-9]*|0) die "COMPLEMENT_SPAWN_HS_TIMEOUT_SECS=$COMPLEMENT_SPAWN_HS_TIMEOUT_SECS: want a positive whole number of seconds";; esac

# STICKLER_SERVER picks a recipe (image built if missing, plus its expectations);
# COMPLEMENT_BASE_IMAGE names any image instead.
server=${STICKLER_SERVER:-}
case "$server" in ''|synapse|synapse-reference|synapse-postgres|dendrite|mixed|mixed-engines) ;;
  *) die "STICKLER_SERVER=$server: want synapse, synapse-reference, synapse-postgres, dendrite, mixed or mixed-engines";; esac
build() { servers/$1/build.sh || die "building the $1 image failed (see above)"; }
if [ -n "${COMPLEMENT_BASE_IMAGE:-}" ]; then
  [ -z "$server" ] || die "set COMPLEMENT_BASE_IMAGE (any image) or STICKLER_SERVER (a recipe), not both"
  docker image inspect "$COMPLEMENT_BASE_IMAGE" >/dev/null 2>&1 \
    || die "image '$COMPLEMENT_BASE_IMAGE' (COMPLEMENT_BASE_IMAGE) is not present: build or load it first (docker image ls)"
  expectations=${STICKLER_EXPECTATIONS-}
elif [ "${server:-synapse}" = mixed ]; then
  # hs1 and hs3 implement the proposal, hs2 does not (a per-server image set by hand still wins).
  synapse=$(build synapse) || exit 2
  dendrite=$(build dendrite) || exit 2
  export COMPLEMENT_BASE_IMAGE=$synapse
  export COMPLEMENT_BASE_IMAGE_HS1=${COMPLEMENT_BASE_IMAGE_HS1:-$synapse}
  export COMPLEMENT_BASE_IMAGE_HS2=${COMPLEMENT_BASE_IMAGE_HS2:-$dendrite}
  export COMPLEMENT_BASE_IMAGE_HS3=${COMPLEMENT_BASE_IMAGE_HS3:-$synapse}
  expectations=${STICKLER_EXPECTATIONS-servers/mixed/expectations.txt}
elif [ "$server" = mixed-engines ]; then
  # One implementation on two database engines: hs1 on PostgreSQL, the others on SQLite.
  synapse=$(build synapse) || exit 2
  postgres=$(build synapse-postgres) || exit 2
  export COMPLEMENT_BASE_IMAGE=$synapse
  export COMPLEMENT_BASE_IMAGE_HS1=${COMPLEMENT_BASE_IMAGE_HS1:-$postgres}
  export COMPLEMENT_BASE_IMAGE_HS2=${COMPLEMENT_BASE_IMAGE_HS2:-$synapse}
  export COMPLEMENT_BASE_IMAGE_HS3=${COMPLEMENT_BASE_IMAGE_HS3:-$synapse}
  expectations=${STICKLER_EXPECTATIONS-servers/mixed-engines/expectations.txt}
else
  COMPLEMENT_BASE_IMAGE=$(build "${server:-synapse}") || exit 2
  export COMPLEMENT_BASE_IMAGE
  expectations=${STICKLER_EXPECTATIONS-servers/${server:-synapse}/expectations.txt}
fi
[ -z "$expectations" ] || [ -f "$expectations" ] || die "expectations file '$expectations' (STICKLER_EXPECTATIONS) does not exist"

export STICKLER_RUN_ID="run-$(date +%s)-$$"

# The load rehearsal: the same suite beside CPU hogs, as on a small, busy CI runner. The verdict
# must not change; the hogs are stopped however the run ends.
hogs=
case "${STICKLER_LOAD_REHEARSAL:-0}" in
  0|'') ;;
  1|[1-9]|[1-9][0-9])
    command -v stress-ng >/dev/null || die "STICKLER_LOAD_REHEARSAL needs stress-ng (apt-get install stress-ng)"
    n=${STICKLER_LOAD_REHEARSAL}; [ "$n" = 1 ] && n=$(nproc)
    stress-ng --cpu "$n" --timeout 3h >/dev/null 2>&1 &
    hogs=$!
    trap '[ -n "$hogs" ] && kill "$hogs" 2>/dev/null; wait 2>/dev/null' EXIT
    echo "run.sh: load rehearsal: $n CPU hog(s) (stress-ng --cpu $n) run beside the suite" ;;
esac
report_dir=${STICKLER_REPORT_DIR:-}
if [ -n "$report_dir" ]; then
  mkdir -p "$report_dir" || die "cannot create STICKLER_REPORT_DIR=$report_dir"
  report_dir=$(cd "$report_dir" && pwd)
  export STICKLER_REPORT_DIR=$report_dir   # absolute: tests run in their package directory
fi
images=$COMPLEMENT_BASE_IMAGE
case "$server" in mixed|mixed-engines) images="hs1 $COMPLEMENT_BASE_IMAGE_HS1, hs2 $COMPLEMENT_BASE_IMAGE_HS2, hs3 $COMPLEMENT_BASE_IMAGE_HS3, others $COMPLEMENT_BASE_IMAGE";; esac
echo "run.sh: suite against $images (names: ${STICKLER_NAMES:-unstable}, expectations: ${expectations:-none})"

# Build the report tool first, so a compile error is not mistaken for a test failure.
tool=$(mktemp -d)/stickler-report
go build -o "$tool" ./cmd/stickler-report || die "building cmd/stickler-report failed"

# The report checks that the expectations file names real tests: against the suite's list, and
# as an error only when the whole suite runs (a -run subset just warns).
report_args=(-live -expectations "$expectations" -dir "$report_dir" -suite-tests "$(dirname "$tool")/tests.txt")
go test -list . ./tests/... >"$(dirname "$tool")/tests.txt" 2>/dev/null || : >"$(dirname "$tool")/tests.txt"
complete=-complete
for a in "$@"; do
  case "$a" in -run|-run=*|--run|--run=*|-test.run|-test.run=*|-skip|-skip=*|--skip|--skip=*) complete=;; esac
done
[ -n "$complete" ] && report_args+=("$complete")

# Ctrl-C reaches every process of the run: the test process removes its servers and exits, the
# report tool writes one line about what finished (-interrupted), and this script goes on to
# check that nothing is left, instead of dying with them.
interrupted=$(dirname "$tool")/interrupted
report_args+=(-interrupted "$interrupted")
trap 'got_signal=1' INT TERM
go test -json -count=1 -timeout "${STICKLER_TIMEOUT:-45m}" -parallel "${STICKLER_PARALLEL:-6}" ./tests/... "$@" \
  | "$tool" "${report_args[@]}"
status=${PIPESTATUS[1]}   # the report's verdict (go test fails on expected failures too)
trap - INT TERM

# What this run left: nothing, normally (the suite removes what it starts). After an interrupt
# the test process's cleanup process may still be removing; give it time, then remove the rest
# here. Removals that meet another cleaner's ("already in progress", "not found") are done.
leftovers() {
  docker ps -aq --filter "label=stickler.run=$STICKLER_RUN_ID" 2>/dev/null
  docker network ls -q --filter "label=stickler.run=$STICKLER_RUN_ID" 2>/dev/null
}
if [ -f "$interrupted" ] || [ -n "${got_signal:-}" ]; then
  for _ in $(seq 60); do [ -z "$(leftovers)" ] && break; sleep 1; done
fi
left=$(docker ps -aq --filter "label=stickler.run=$STICKLER_RUN_ID")
[ -n "$left" ] && docker rm -f $left >/dev/null 2>&1
nets=$(docker network ls -q --filter "label=stickler.run=$STICKLER_RUN_ID")
[ -n "$nets" ] && docker network rm $nets >/dev/null 2>&1
if [ -f "$interrupted" ] || [ -n "${got_signal:-}" ]; then
  what=$(cat "$interrupted" 2>/dev/null)
  rest=$(leftovers | wc -l)
  if [ "$rest" -eq 0 ]; then
    gone="every container and network of $STICKLER_RUN_ID removed"
  else
    gone="$rest container(s) or network(s) of $STICKLER_RUN_ID could not be removed: docker ps -a --filter label=stickler.run=$STICKLER_RUN_ID"
  fi
  echo "run.sh: ${what:-run interrupted}; $gone" >&2
  rm -rf "$(dirname "$tool")"
  exit 130
fi
rm -rf "$(dirname "$tool")"
exit $status
