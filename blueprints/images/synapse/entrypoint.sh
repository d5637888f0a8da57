#!/bin/sh
# Starts Synapse as the Complement image contract asks: server name from SERVER_NAME, a TLS
# certificate for it signed by the CA the harness placed in /complement/ca, ports 8008/8448.
# The container may be started more than once (crash tests): keys and database are kept.
set -eu
: "${SERVER_NAME:?SERVER_NAME must be set}"

# --- mutants (./mutants.sh): a deliberately broken variant, only when STICKLER_MUTANT names one.
# A variant that does not apply stops the container (set -e): never a silent normal start.
[ -z "${STICKLER_MUTANT:-}" ] || sh /stickler/mutants/apply.sh "$STICKLER_MUTANT"
# --- end mutants
data=/data
mkdir -p "$data/media_store"

if [ ! -f "$data/server.crt" ]; then
  [ -f /complement/ca/ca.crt ] && [ -f /complement/ca/ca.key ] || {
    echo "entrypoint: /complement/ca/ca.crt and ca.key are required" >&2; exit 1; }
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$SERVER_NAME" \
    -keyout "$data/server.key" -out "$data/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$SERVER_NAME" >"$data/san.ext"
  openssl x509 -req -in "$data/server.csr" -CA /complement/ca/ca.crt -CAkey /complement/ca/ca.key \
    -CAcreateserial -days 2 -sha256 -extfile "$data/san.ext" -out "$data/server.crt" 2>/dev/null
fi

sed "s/__SERVER_NAME__/$SERVER_NAME/g" /stickler/homeserver.yaml.tmpl >"$data/homeserver.yaml"
cp /stickler/log.config "$data/log.config"
if [ ! -f "$data/signing.key" ]; then
  # signedjson directly: a second full Synapse start just to make a key costs seconds.
  python3 -c 'import sys
from signedjson.key import generate_signing_key, write_signing_keys
write_signing_keys(sys.stdout, [generate_signing_key("a_stkl")])' >"$data/signing.key"
fi
exec python3 -m synapse.app.homeserver -c "$data/homeserver.yaml"
