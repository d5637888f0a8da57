#!/usr/bin/env bash
# Runs the conformance suite against a homeserver image.
#
#   ./run.sh [go test args...]          e.g. ./run.sh -run 'TestSend'
#
# Without COMPLEMENT_BASE_IMAGE it builds (if missing) and uses the project's Synapse image with
# its expectations file. Settings: see README.md. Exit codes: 0 every outcome as expected,
# 1 some test failed the run, 2 the run could not start (no Docker, no image, bad setting).
set -uo pipefail
cd "$(dirname "$0")"

die() { echo "run.sh: $*" >&2; exit 2; }

command -v go >/dev/null || die "Go is not installed (the suite needs Go 1.26 or newer)"
command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine: start it (or set DOCKER_HOST) and check that this user may use it"

case "${STICKLER_NAMES:-unstable}" in unstable|stable) ;; *) die "STICKLER_NAMES=$STICKLER_NAMES: want unstable or stable";; esac
case "${COMPLEMENT_SPAWN_HS_TIMEOUT_SECS:-60}" in ''|*[!0-9]*|0) die "COMPLEMENT_SPAWN_HS_TIMEOUT_SECS=$COMPLEMENT_SPAWN_HS_TIMEOUT_SECS: want a positive whole number of seconds";; esac

synapse_dir=blueprints/images/synapse
if [ -z "${COMPLEMENT_BASE_IMAGE:-}" ]; then
  image=$("$synapse_dir/build.sh") || die "building the Synapse image failed (see above)"
  export COMPLEMENT_BASE_IMAGE=$image
  expectations=${STICKLER_EXPECTATIONS-$synapse_dir/expectations.txt}
else
  docker image inspect "$COMPLEMENT_BASE_IMAGE" >/dev/null 2>&1 \
    || die "image '$COMPLEMENT_BASE_IMAGE' (COMPLEMENT_BASE_IMAGE) is not present: build or load it first (docker image ls)"
  expectations=${STICKLER_EXPECTATIONS-}
fi
[ -z "$expectations" ] || [ -f "$expectations" ] || die "expectations file '$expectations' (STICKLER_EXPECTATIONS) does not exist"

export STICKLER_RUN_ID="run-$(date +%s)-$$"
report_dir=${STICKLER_REPORT_DIR:-}
if [ -n "$report_dir" ]; then
  mkdir -p "$report_dir" || die "cannot create STICKLER_REPORT_DIR=$report_dir"
  report_dir=$(cd "$report_dir" && pwd)
  export STICKLER_REPORT_DIR=$report_dir   # absolute: tests run in their package directory
fi
echo "run.sh: suite against $COMPLEMENT_BASE_IMAGE (names: ${STICKLER_NAMES:-unstable}, expectations: ${expectations:-none})"

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
