#!/bin/sh
# Runs once at image build time (Dockerfile RUN): everything a start would otherwise redo that
# does not depend on the server name, so a container start costs seconds.
#   - the SQLite database with Synapse's whole schema and its background updates applied. The
#     schema holds no server name (Synapse only refuses a database whose users belong to
#     another name, and this one has no users), so it serves any SERVER_NAME;
#   - the TLS private key; entrypoint.sh only signs a certificate for SERVER_NAME with it (the
#     key is the same in every container of this image: they are test servers, and the CA
#     is made per deployment anyway).
# The container's own layer keeps /data, so a restarted container finds its data again.
set -eu
# The dependency check start.py leaves out at every start, done here once instead.
python3 -c 'from synapse.util.check_dependencies import check_requirements; check_requirements()'
data=/data
mkdir -p "$data/media_store"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$data/server.key" 2>/dev/null
tmp=$(mktemp -d)
# Only the database section matters here; the rest of the real config needs files a start
# provides (the harness CA).
cat >"$tmp/homeserver.yaml" <<YAML
server_name: prepared.invalid
report_stats: false
signing_key_path: $tmp/signing.key
database:
$(sed -n '/^database:/,/^$/p' /stickler/homeserver.yaml.tmpl | sed '1d;/^$/d')
YAML
# A throwaway signing key: the config must name one, nothing is signed with it.
python3 -c 'import sys
from signedjson.key import generate_signing_key, write_signing_keys
write_signing_keys(sys.stdout, [generate_signing_key("prepare")])' >"$tmp/signing.key"
python3 -m synapse._scripts.update_synapse_database --database-config "$tmp/homeserver.yaml" \
  --run-background-updates >"$tmp/prepare.log" 2>&1 || { tail -30 "$tmp/prepare.log" >&2; exit 1; }
grep -c 'Applying schema' "$tmp/prepare.log" | sed 's/^/prepare.sh: schema files applied: /'
rm -rf "$tmp"
