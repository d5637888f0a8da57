#!/usr/bin/env bash
# Builds the Synapse image under test without a container registry.
#
#   servers/synapse/build.sh              build if missing, print the image tag
#   servers/synapse/build.sh --tag        print the tag only (nothing is built)
#   servers/synapse/build.sh --root       build the Debian root if missing, print its tag
#   servers/synapse/build.sh --root-tag   print the root's tag only (nothing is built)
#   servers/synapse/build.sh --cold-top NAME   build the top layer again without any
#                        cache into NAME:<hash> (the root as usual); for the benchmark
#   servers/synapse/build.sh --cold NAME  build root and top layer from scratch into
#                        NAME-root:<hash> and NAME:<hash>; for the benchmark
#
# Two layers, each cached under a tag derived from the files that define it:
#   stickler-synapse-root:<hash>  a Debian sid root (debootstrap) with Debian's matrix-synapse
#                                 and openssl installed, imported with `docker import`;
#   stickler-synapse:<hash>       that root plus config template and entrypoint (Dockerfile),
#                                 and a database and TLS key prepared at build (prepare.sh).
# The Dendrite recipe uses the same root (it needs only its openssl and ca-certificates).
# An unchanged recipe is never rebuilt. `stickler-synapse:latest` always names the newest build.
#
# Where a registry is reachable the same Dockerfile builds from an ordinary Debian image:
#   docker build --build-arg BASE_IMAGE=debian:sid -t stickler-synapse:latest servers/synapse
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${STICKLER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=sid

die() { echo "build.sh: $*" >&2; exit 2; }

hash_of() { (cd "$here" && sha256sum "$@" | sha256sum | cut -c1-12); }
root_hash=$(hash_of packages.txt)
# (cd first: the mutants/* glob expands in the recipe directory)
image_hash=$(cd "$here" && hash_of packages.txt Dockerfile entrypoint.sh homeserver.yaml.tmpl log.config prepare.sh start.py stickler_spam.py mutants/*)
root_tag="stickler-synapse-root:$root_hash"
image_tag="stickler-synapse:$image_hash"
latest=stickler-synapse:latest
nocache=

case "${1:-}" in
  --tag) echo "$image_tag"; exit 0 ;;
  --root-tag) echo "$root_tag"; exit 0 ;;
  --cold|--cold-top)
    [ -n "${2:-}" ] || die "$1 needs an image name to build into"
    image_tag="$2:$image_hash"; latest=""; nocache=--no-cache
    [ "$1" = --cold-top ] || root_tag="$2-root:$root_hash"
    ;;
  ''|--root) ;;
  *) die "unknown argument '$1' (want --tag, --root, --root-tag, --cold NAME or --cold-top NAME)" ;;
esac

command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is it running? may this user use it?)"

if [ "${1:-}" != --root ] && [ -z "$nocache" ] && docker image inspect "$image_tag" >/dev/null 2>&1; then
  docker tag "$image_tag" "$latest"
  echo "$image_tag"
  exit 0
fi

# A fresh machine needs no extra command: as root with apt, debootstrap is installed here.
need_debootstrap() {
  command -v debootstrap >/dev/null && return
  command -v apt-get >/dev/null \
    || die "debootstrap is missing: install it with your package manager (it builds the Debian root)"
  echo "build.sh: installing debootstrap (apt-get)" >&2
  local log
  log=$(mktemp)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; } \
    >"$log" 2>&1 || { tail -20 "$log" >&2; rm -f "$log"; die "installing debootstrap failed (log above): apt-get install debootstrap"; }
  rm -f "$log"
  command -v debootstrap >/dev/null || die "debootstrap is still missing after apt-get install debootstrap"
}

build_root() {
  [ "$(id -u)" = 0 ] || die "building the root needs root (debootstrap, chroot); run as root or build elsewhere with BASE_IMAGE=debian:sid"
  need_debootstrap
  local dir
  dir=$(mktemp -d /tmp/stickler-root.XXXXXX)
  # Unmount and remove the half-built root on every exit path.
  trap 'umount "$dir/proc" 2>/dev/null || true; rm -rf "$dir"' RETURN
  echo "build.sh: debootstrap $suite into $dir" >&2
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 \
    || { tail -20 "$dir.log" >&2; die "debootstrap failed (log above)"; }
  rm -f "$dir.log"
  # The mirror's sid Release file may be past its Valid-Until date.
  echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99stickler"
  # No service may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  mount -t proc proc "$dir/proc"
  local pkgs
  pkgs=$(grep -v '^#' "$here/packages.txt" | xargs)
  echo "build.sh: installing $pkgs" >&2
  chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs && apt-get clean" \
    >"$dir.log" 2>&1 || { tail -30 "$dir.log" >&2; rm -f "$dir.log"; die "installing packages in the root failed (log above)"; }
  rm -f "$dir.log"
  umount "$dir/proc"
  rm -rf "$dir/var/lib/apt/lists"/* "$dir/usr/sbin/policy-rc.d"
  : >"$dir/etc/resolv.conf"
  echo "build.sh: importing root as $root_tag" >&2
  tar -C "$dir" -c . | docker import - "$root_tag" >/dev/null
}

if ! docker image inspect "$root_tag" >/dev/null 2>&1; then
  build_root
fi
if [ "${1:-}" = --root ]; then echo "$root_tag"; exit 0; fi

echo "build.sh: building $image_tag" >&2
# The build runs Synapse once to prepare its database (prepare.sh); its output is shown only
# when the build fails.
log=$(mktemp /tmp/stickler-build.XXXXXX)
docker build $nocache --build-arg BASE_IMAGE="$root_tag" -t "$image_tag" ${latest:+-t "$latest"} "$here" >"$log" 2>&1 \
  || { tail -40 "$log" >&2; rm -f "$log"; die "docker build failed (output above)"; }
rm -f "$log"
echo "$image_tag"
