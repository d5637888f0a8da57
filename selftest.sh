#!/usr/bin/env bash
# Runs the project's own tests: go vet, unit tests of the harness and the Docker tests of the
# deployer (which start real servers, so the default image is built first if missing).
#
#   ./selftest.sh [go test args...]
set -uo pipefail
cd "$(dirname "$0")"
die() { echo "selftest.sh: $*" >&2; exit 2; }
command -v go >/dev/null || die "Go is not installed (the project needs Go 1.26 or newer)"
command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine: start it (or set DOCKER_HOST)"
if [ -z "${COMPLEMENT_BASE_IMAGE:-}" ]; then
  image=$(servers/synapse/build.sh) || die "building the Synapse image failed (see above)"
  export COMPLEMENT_BASE_IMAGE=$image
fi
export STICKLER_RUN_ID="selftest-$(date +%s)-$$"
go vet ./... || exit 1
go test -count=1 -timeout 20m "$@" ./helpers/... ./cmd/... ./blueprints/
