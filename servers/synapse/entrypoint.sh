#!/bin/sh
# Starts Synapse as the Complement image contract asks: server name from SERVER_NAME, a TLS
# certificate for it signed by the CA the harness placed in /complement/ca, ports 8008/8448.
# The database schema and the TLS key were made when the image was built (prepare.sh); a start
# only signs a certificate, writes the config and runs Synapse (start.py).
# The container may be started more than once (crash tests): certificate, signing key and
# database are kept.
set -eu
: "${SERVER_NAME:?SERVER_NAME must be set}"

# --- mutants (./mutants.sh): a deliberately broken variant, only when STICKLER_MUTANT names one.
# A variant that does not apply stops the container (set -e): never a silent normal start.
[ -z "${STICKLER_MUTANT:-}" ] || sh /stickler/mutants/apply.sh "$STICKLER_MUTANT"
# --- end mutants
data=/data

if [ ! -f "$data/server.crt" ]; then
  [ -f /complement/ca/ca.crt ] && [ -f /complement/ca/ca.key ] || {
    echo "entrypoint: /complement/ca/ca.crt and ca.key are required" >&2; exit 1; }
  # A leaf certificate (CA:FALSE: strict TLS clients refuse a CA certificate as a server's).
  printf 'basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:%s\n' "$SERVER_NAME" >"$data/cert.ext"
  { openssl req -new -key "$data/server.key" -subj "/CN=$SERVER_NAME" -out "$data/server.csr" &&
    openssl x509 -req -in "$data/server.csr" -CA /complement/ca/ca.crt -CAkey /complement/ca/ca.key \
      -CAcreateserial -days 2 -sha256 -extfile "$data/cert.ext" -out "$data/server.crt.tmp"; } 2>"$data/openssl.err" \
    || { cat "$data/openssl.err" >&2; exit 1; }
  mv "$data/server.crt.tmp" "$data/server.crt"
fi

sed "s/__SERVER_NAME__/$SERVER_NAME/g" /stickler/homeserver.yaml.tmpl >"$data/homeserver.yaml"
cp /stickler/log.config "$data/log.config"
exec python3 /stickler/start.py
