#!/bin/sh
# Runs once at image build time (Dockerfile RUN), as the Synapse recipe's prepare.sh does for
# SQLite: a PostgreSQL cluster in /data/postgres (owned by the postgres user, superuser synapse,
# C locale as Synapse requires, reachable only on a Unix socket), the Synapse config template's
# database section swapped for database.yaml, then the Synapse recipe's own prepare.sh with the
# cluster running (Synapse's whole schema and background updates, the TLS key).
set -eu
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "prepare.sh: no PostgreSQL server in /usr/lib/postgresql" >&2; exit 1; }
data=/data/postgres
socket=/data/postgres-socket

# The database section of the shared template, replaced (it ends at the first blank line, the
# form the Synapse recipe's prepare.sh reads too).
tmpl=/stickler/homeserver.yaml.tmpl
awk -v f=/stickler/postgres/database.yaml '
  BEGIN { while ((getline l < f) > 0) db = db l "\n" }
  /^database:/ { printf "%s", db; skip = 1; next }
  skip && /^$/ { skip = 0 }
  !skip' "$tmpl" >"$tmpl.new"
grep -q '^  name: psycopg2$' "$tmpl.new" && ! grep -q sqlite "$tmpl.new" \
  || { echo "prepare.sh: could not replace the database section of $tmpl" >&2; exit 1; }
mv "$tmpl.new" "$tmpl"
rm -f /data/homeserver.db   # the Synapse image's SQLite database, unused here

mkdir -p "$data" "$socket"
: >/data/postgres.log
chown postgres:postgres "$data" "$socket" /data/postgres.log
runuser -u postgres -- "$pgbin/initdb" -D "$data" --username=synapse --auth=trust \
  --encoding=UTF8 --locale=C --no-sync >/dev/null
# Test servers: no TCP, and no waiting for the disk. A container stop or kill loses nothing
# the kernel already has (the machine does not crash under a test); crash recovery replays
# the WAL on the next start.
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$socket'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -l /data/postgres.log -w -s start
runuser -u postgres -- "$pgbin/createdb" -h "$socket" -U synapse synapse
status=0
sh /stickler/prepare.sh || status=$?
runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -m fast -w -s stop
[ "$status" = 0 ] || { tail -20 /data/postgres.log >&2; exit "$status"; }
: >/data/postgres.log
