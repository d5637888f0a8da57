#!/usr/bin/env bash
# Builds the reference Synapse image: the Synapse recipe's image with the patches in patches/
# applied (see Dockerfile). No registry; the Synapse image is built first if missing.
#
#   servers/synapse-reference/build.sh         build if missing, print the image tag
#   servers/synapse-reference/build.sh --tag   print the tag only (nothing is built)
#
# The tag is derived from the Synapse image's tag and this recipe's files, so an unchanged recipe
# builds nothing. `stickler-synapse-reference:latest` always names the newest build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "build.sh: $*" >&2; exit 2; }
synapse_build=$here/../synapse/build.sh

base_tag=$("$synapse_build" --tag)
hash=$(cd "$here" && { echo "$base_tag"; find Dockerfile patches mutants -type f | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-12)
image_tag="stickler-synapse-reference:$hash"

case "${1:-}" in
  --tag) echo "$image_tag"; exit 0 ;;
  '') ;;
  *) die "unknown argument '$1' (want --tag or nothing)" ;;
esac

command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is it running? may this user use it?)"

if docker image inspect "$image_tag" >/dev/null 2>&1; then
  docker tag "$image_tag" stickler-synapse-reference:latest
  echo "$image_tag"
  exit 0
fi
base=$("$synapse_build") || die "building the Synapse image (the reference's base) failed"
echo "build.sh: building $image_tag on $base" >&2
log=$(mktemp /tmp/stickler-build.XXXXXX)
docker build --build-arg BASE_IMAGE="$base" -t "$image_tag" -t stickler-synapse-reference:latest "$here" >"$log" 2>&1 \
  || { tail -40 "$log" >&2; rm -f "$log"; die "docker build failed (output above): a reference patch may no longer apply"; }
rm -f "$log"
echo "$image_tag"
