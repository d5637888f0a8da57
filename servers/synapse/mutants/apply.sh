#!/bin/sh
# Switches on one deliberately broken Synapse variant ("mutant") before Synapse starts:
#   sh /stickler/mutants/apply.sh NAME     applies /stickler/mutants/NAME.patch
# Run by the entrypoint when STICKLER_MUTANT is set (mutants.sh sets it). A variant that does
# not exist or does not apply stops the container with a message: never a silent normal start.
# A restarted container (crash tests) finds the variant already applied and carries on.
set -eu
name=$1
here=$(dirname "$0")
root=/usr/lib/python3/dist-packages
marker=/var/lib/stickler-mutant
case "$name" in *[!a-z0-9-]*|'') echo "mutant: bad variant name '$name' (want [a-z0-9-]+)" >&2; exit 1;; esac
[ -f "$here/$name.patch" ] || { echo "mutant: no variant '$name' (no $here/$name.patch)" >&2; exit 1; }
if [ -f "$marker" ]; then
  applied=$(cat "$marker")
  [ "$applied" = "$name" ] || { echo "mutant: '$applied' is already applied in this container, cannot switch to '$name'" >&2; exit 1; }
  echo "mutant: variant '$name' already applied (container restarted)" >&2
  exit 0
fi
python3 "$here/apply.py" "$here/$name.patch" "$root" || { echo "mutant: variant '$name' FAILED to apply; refusing to start" >&2; exit 1; }
echo "$name" >"$marker"
echo "mutant: variant '$name' applied: this Synapse is deliberately broken" >&2
