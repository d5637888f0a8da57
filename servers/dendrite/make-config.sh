#!/bin/sh
# Run once while the image is built: writes /stickler/dendrite.yaml.tmpl, Dendrite's own CI
# configuration (SQLite under /data, registration shared secret "complement", no client rate
# limits, no key perspectives) with the changes below. The entrypoint only fills in the name.
# Each change is checked, so a Dendrite whose generated config differs fails the build instead
# of running with a setting silently unchanged.
set -eu
out=/stickler/dendrite.yaml.tmpl
/usr/local/bin/generate-config -server __SERVER_NAME__ --ci -dir /data >"$out"

change() { # change 'sed expression' 'line that must then exist'
  sed -i "$1" "$out"
  grep -qxF -- "$2" "$out" || { echo "make-config.sh: '$2' not in the generated config" >&2; exit 1; }
}
# Absolute, so the key does not depend on the working directory.
change 's|^  private_key: matrix_key.pem$|  private_key: /data/matrix_key.pem|' '  private_key: /data/matrix_key.pem'
# JetStream on disk: a crashed and restarted server (fault tests) resumes its queues, as a real
# deployment does; in memory, events not yet consumed by the sync API would be lost.
change '/^  jetstream:$/,/^  [a-z]/s|^    in_memory: true$|    in_memory: false|' '    in_memory: false'
change '/^  jetstream:$/,/^  [a-z]/s|^    storage_path: /data$|    storage_path: /data/jetstream|' '    storage_path: /data/jetstream'
# info, not trace: the logs are printed under failing tests and trace buries them (and costs CPU).
change 's|^  level: trace$|  level: info|' '  level: info'

# Dendrite v0.13.8 does not implement MSC4354: it must not be advertised.
if grep -q msc4354 "$out"; then echo "make-config.sh: msc4354 must not be configured" >&2; exit 1; fi
grep -c __SERVER_NAME__ "$out" | grep -qx 1 || { echo "make-config.sh: expected the server name once" >&2; exit 1; }
