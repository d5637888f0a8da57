#!/usr/bin/env bash
# Builds the Dendrite image under test without a container registry.
#
#   servers/dendrite/build.sh         build if missing, print the image tag
#   servers/dendrite/build.sh --tag   print the tag only (nothing is built)
#
# Three parts, each cached:
#   binaries                  dendrite, generate-keys, generate-config from the Go module proxy at
#                             the version pinned in dendrite.env (cgo for SQLite, static), kept in
#                             ~/.cache/stickler/dendrite/<hash>/; Go's own build cache is reused,
#                             so a rebuild with a warm cache only links;
#   stickler-synapse-root:<h> the Synapse recipe's Debian root, which already has openssl and
#                             ca-certificates (one debootstrap serves both recipes);
#   stickler-dendrite:<hash>  that root plus binaries, generated config and entrypoint.
# An unchanged recipe builds nothing. `stickler-dendrite:latest` always names the newest build.
#
# Where a registry is reachable the Dockerfile also builds from an ordinary Debian image: put the
# binaries in bin/ of a copy of this directory and pass --build-arg BASE_IMAGE=debian:sid.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "build.sh: $*" >&2; exit 2; }

# shellcheck source=dendrite.env
. "$here/dendrite.env"
command -v go >/dev/null || die "Go is not installed (building Dendrite needs Go 1.26 or newer)"
go_version=$(go env GOVERSION)
synapse_build=$here/../synapse/build.sh
root_tag=$("$synapse_build" --root-tag)

hash_of() { (cd "$here" && { sha256sum "$@"; echo "$go_version $root_tag"; } | sha256sum | cut -c1-12); }
# The binaries depend on what they are built from and the Go toolchain, not on the root.
bin_hash=$( { cat "$here/dendrite.env"; echo "$go_version"; } | sha256sum | cut -c1-12)
image_tag="stickler-dendrite:$(hash_of dendrite.env packages.txt Dockerfile make-config.sh entrypoint.sh)"

if [ "${1:-}" = "--tag" ]; then echo "$image_tag"; exit 0; fi
[ -z "${1:-}" ] || die "unknown argument '$1' (want --tag or nothing)"

command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is it running? may this user use it?)"

if docker image inspect "$image_tag" >/dev/null 2>&1; then
  docker tag "$image_tag" stickler-dendrite:latest
  echo "$image_tag"
  exit 0
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/stickler/dendrite
mkdir -p "$cache"
# One build at a time (two runs starting together would both compile for many minutes).
if command -v flock >/dev/null; then
  exec 9>"$cache/build.lock"
  flock -n 9 || { echo "build.sh: another Dendrite build is running; waiting for it" >&2; flock 9; }
fi
bin=$cache/$bin_hash
# Temporary directories (half-built binaries, the docker build context) go on every exit path.
tmp=()
trap 'rm -rf "${tmp[@]}"' EXIT

# cgo needs a C compiler and, for a static link, libc.a. A fresh machine needs no extra command:
# as root with apt, they are installed here.
need_cc() {
  if command -v gcc >/dev/null && [ -f "$(gcc -print-file-name=libc.a)" ]; then return; fi
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null \
    || die "building Dendrite (cgo, SQLite) needs gcc and the C library's static files: apt-get install gcc libc6-dev"
  echo "build.sh: installing gcc libc6-dev (apt-get)" >&2
  local log
  log=$(mktemp)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev; } \
    >"$log" 2>&1 || { tail -20 "$log" >&2; rm -f "$log"; die "installing gcc failed (log above): apt-get install gcc libc6-dev"; }
  rm -f "$log"
}

build_binaries() {
  need_cc
  local out pkgs=() c log
  out=$(mktemp -d "$cache/build.XXXXXX")
  log=$out.log
  tmp+=("$out" "$log")
  for c in $DENDRITE_COMMANDS; do pkgs+=("$DENDRITE_MODULE/$c@$DENDRITE_VERSION"); done
  echo "build.sh: building Dendrite $DENDRITE_VERSION ($DENDRITE_COMMANDS) with $go_version; a first build compiles for minutes (170 s on 2 cores), later ones take seconds" >&2
  local start=$SECONDS
  # nice: other work on the machine (tests with timing margins) keeps its share of the CPU.
  if ! CGO_ENABLED=1 GOBIN=$out nice -n 10 go install -trimpath \
      -tags "$DENDRITE_TAGS" -ldflags "$DENDRITE_LDFLAGS" "${pkgs[@]}" >"$log" 2>&1; then
    grep -v '^go: downloading' "$log" | tail -30 >&2
    die "building Dendrite failed (log above)"
  fi
  rm -rf "$bin"
  mv "$out" "$bin"
  echo "build.sh: Dendrite binaries built in $((SECONDS - start)) s" >&2
}

[ -x "$bin/dendrite" ] && [ -x "$bin/generate-keys" ] && [ -x "$bin/generate-config" ] || build_binaries
"$synapse_build" --root >/dev/null || die "building the Debian root (Synapse recipe) failed (see above)"

ctx=$(mktemp -d)
tmp+=("$ctx")
cp "$here"/{Dockerfile,packages.txt,make-config.sh,entrypoint.sh} "$ctx/"
mkdir "$ctx/bin"
cp "$bin"/{dendrite,generate-keys,generate-config} "$ctx/bin/"
echo "build.sh: building $image_tag" >&2
# Its output (and the legacy builder's deprecation notice) only matters when it fails.
docker build --build-arg BASE_IMAGE="$root_tag" -t "$image_tag" -t stickler-dendrite:latest "$ctx" >"$ctx.log" 2>&1 \
  || { tail -30 "$ctx.log" >&2; rm -f "$ctx.log"; die "docker build failed (log above)"; }
rm -f "$ctx.log"
echo "$image_tag"
