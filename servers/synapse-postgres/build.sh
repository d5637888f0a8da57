#!/usr/bin/env bash
# Builds the Synapse-on-PostgreSQL image without a container registry.
#
#   servers/synapse-postgres/build.sh         build if missing, print the image tag
#   servers/synapse-postgres/build.sh --tag   print the tag only (nothing is built)
#   servers/synapse-postgres/build.sh --cold-top NAME   build this recipe's layers again
#                        without any cache into NAME:<hash> (the Synapse image as usual); for
#                        the benchmark
#
# On top of the Synapse recipe's image (built first if missing), one layer with Debian's
# PostgreSQL server: its packages (packages.txt) are installed with apt in a chroot on an
# exported copy of the Synapse recipe's Debian root, and the files that installation created or
# changed become postgres-layer.tar, which the Dockerfile adds (the build itself needs no
# network). The Debian root's layers stay shared with the other recipes; the Synapse image is
# neither changed nor re-tagged. Making the layer needs root (chroot) and the Debian mirror.
#
# The tag is derived from the Synapse image's tag and this recipe's files, so an unchanged
# recipe builds nothing. `stickler-synapse-postgres:latest` always names the newest build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "build.sh: $*" >&2; exit 2; }
synapse_build=$here/../synapse/build.sh

base_tag=$("$synapse_build" --tag)
hash=$(cd "$here" && { echo "$base_tag"; sha256sum packages.txt Dockerfile database.yaml prepare.sh entrypoint.sh; } | sha256sum | cut -c1-12)
image_tag="stickler-synapse-postgres:$hash"
latest=stickler-synapse-postgres:latest
nocache=

case "${1:-}" in
  --tag) echo "$image_tag"; exit 0 ;;
  --cold-top)
    [ -n "${2:-}" ] || die "$1 needs an image name to build into"
    image_tag="$2:$hash"; latest=""; nocache=--no-cache ;;
  '') ;;
  *) die "unknown argument '$1' (want --tag, --cold-top NAME or nothing)" ;;
esac

command -v docker >/dev/null || die "the docker command is not installed; install Docker and start its engine"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is it running? may this user use it?)"

if [ -z "$nocache" ] && docker image inspect "$image_tag" >/dev/null 2>&1; then
  docker tag "$image_tag" "$latest"
  echo "$image_tag"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "making the PostgreSQL layer needs root (chroot); run as root"
base=$("$synapse_build") || die "building the Synapse image (this image's base) failed"
root=$("$synapse_build" --root) || die "building the Debian root failed"

work=$(mktemp -d /tmp/stickler-postgres.XXXXXX)
dir=$work/root ctx=$work/context cid=
cleanup() {
  umount "$dir/proc" 2>/dev/null || :
  [ -z "$cid" ] || docker rm -f "$cid" >/dev/null 2>&1 || :
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$dir" "$ctx"

echo "build.sh: installing $(grep -v '^#' "$here/packages.txt" | xargs) in a copy of $root" >&2
cid=$(docker create "$root" /bin/true)
docker export "$cid" | tar -C "$dir" -x
docker rm "$cid" >/dev/null; cid=
# Everything whose inode changes after this mark is part of the layer.
touch "$work/mark"
sleep 1
printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$dir/etc/resolv.conf"
mount -t proc proc "$dir/proc"
pkgs=$(grep -v '^#' "$here/packages.txt" | xargs)
chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
  "apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs && apt-get clean" \
  >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; die "installing packages in the root copy failed (log above)"; }
# Debian makes a cluster 'main' at installation; the image makes its own (prepare.sh).
chroot "$dir" sh -c 'for c in $(pg_lsclusters -h | cut -d" " -f1,2 | tr " " /); do pg_dropcluster ${c%/*} ${c#*/}; done' \
  >>"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; die "removing Debian's default cluster failed (log above)"; }
umount "$dir/proc"
rm -rf "$dir/var/lib/apt/lists"/* "$dir/usr/sbin/policy-rc.d"
(cd "$dir" && find . -cnewer "$work/mark" \
    ! -path ./proc ! -path './proc/*' ! -path ./dev ! -path './dev/*' ! -path ./sys ! -path './sys/*' \
    ! -path ./etc/resolv.conf ! -path ./etc/hosts ! -path ./etc/hostname ! -path ./.dockerenv -print0 \
  | tar --null --no-recursion -T - -cf "$ctx/postgres-layer.tar")
echo "build.sh: PostgreSQL layer $(du -h "$ctx/postgres-layer.tar" | cut -f1)" >&2

cp "$here"/Dockerfile "$here"/database.yaml "$here"/prepare.sh "$here"/entrypoint.sh "$ctx/"
echo "build.sh: building $image_tag on $base" >&2
docker build $nocache --build-arg BASE_IMAGE="$base" -t "$image_tag" ${latest:+-t "$latest"} "$ctx" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; die "docker build failed (output above)"; }
echo "$image_tag"
