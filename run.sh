#!/usr/bin/env bash
# Runs the conformance suite against a homeserver image.
#
#   ./run.sh [go test args...]          e.g. ./run.sh -run 'TestSend'
#   ./run.sh --bench [bench flags...]   the benchmark instead (cmd/stickler-bench; -h lists flags)
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
build() { blueprints/images/$1/build.sh || die "building the $1 image failed (see above)"; }
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
  expectations=${STICKLER_EXPECTATIONS-blueprints/mixed/expectations.txt}
elif [ "$server" = mixed-engines ]; then
  # One implementation on two database engines: hs1 on PostgreSQL, the others on SQLite.
  synapse=$(build synapse) || exit 2
  postgres=$(build synapse-postgres) || exit 2
  export COMPLEMENT_BASE_IMAGE=$synapse
  export COMPLEMENT_BASE_IMAGE_HS1=${COMPLEMENT_BASE_IMAGE_HS1:-$postgres}
  export COMPLEMENT_BASE_IMAGE_HS2=${COMPLEMENT_BASE_IMAGE_HS2:-$synapse}
  export COMPLEMENT_BASE_IMAGE_HS3=${COMPLEMENT_BASE_IMAGE_HS3:-$synapse}
  expectations=${STICKLER_EXPECTATIONS-blueprints/mixed-engines/expectations.txt}
else
  COMPLEMENT_BASE_IMAGE=$(build "${server:-synapse}") || exit 2
  export COMPLEMENT_BASE_IMAGE
  expectations=${STICKLER_EXPECTATIONS-blueprints/images/${server:-synapse}/expectations.txt}
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

go test -json -count=1 -timeout "${STICKLER_TIMEOUT:-45m}" -parallel "${STICKLER_PARALLEL:-6}" ./tests/... "$@" \
  | "$tool" "${report_args[@]}"
status=${PIPESTATUS[1]}   # the report's verdict (go test fails on expected failures too)

# Belt and braces: the suite removes what it starts, but nothing of this run may outlive it.
left=$(docker ps -aq --filter "label=stickler.run=$STICKLER_RUN_ID")
[ -n "$left" ] && docker rm -f $left >/dev/null
nets=$(docker network ls -q --filter "label=stickler.run=$STICKLER_RUN_ID")
[ -n "$nets" ] && docker network rm $nets >/dev/null
rm -rf "$(dirname "$tool")"
exit $status
