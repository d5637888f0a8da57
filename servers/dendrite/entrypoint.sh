#!/bin/sh
# Starts Dendrite as the Complement image contract asks: server name from SERVER_NAME, a TLS
# certificate for it signed by the CA the harness placed in /complement/ca, client API on 8008
# (HTTP), federation on 8448 (HTTPS). The container may be started more than once (crash
# tests): keys and databases in /data are kept.
set -eu
: "${SERVER_NAME:?SERVER_NAME must be set}"
data=/data
mkdir -p "$data"

if [ ! -f "$data/server.crt" ]; then
  [ -f /complement/ca/ca.crt ] && [ -f /complement/ca/ca.key ] || {
    echo "entrypoint: /complement/ca/ca.crt and ca.key are required" >&2; exit 1; }
  # openssl, not generate-keys: generate-keys signs only with an RSA (PKCS#1) CA key, and the
  # harness CA is ECDSA. 2048 bits: OpenSSL peers refuse smaller RSA keys.
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$SERVER_NAME" \
    -keyout "$data/server.key" -out "$data/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$SERVER_NAME" >"$data/san.ext"
  openssl x509 -req -in "$data/server.csr" -CA /complement/ca/ca.crt -CAkey /complement/ca/ca.key \
    -CAcreateserial -days 2 -sha256 -extfile "$data/san.ext" -out "$data/server.crt" 2>/dev/null
fi
[ -f "$data/matrix_key.pem" ] || generate-keys --private-key "$data/matrix_key.pem" >/dev/null

sed "s/__SERVER_NAME__/$SERVER_NAME/" /stickler/dendrite.yaml.tmpl >"$data/dendrite.yaml"

# Outbound federation trusts the harness CA: Go reads the system bundle file plus every
# certificate in the SSL_CERT_DIR directories (no update-ca-certificates, seconds per start).
export SSL_CERT_DIR=/complement/ca
cd "$data"
# Open registration is what the CI config asks for; the harness registers with the shared secret.
exec dendrite --config "$data/dendrite.yaml" --tls-cert "$data/server.crt" --tls-key "$data/server.key" \
  --really-enable-open-registration
