#!/bin/sh
# Starts the image's PostgreSQL cluster, then Synapse through the Synapse recipe's own
# entrypoint (certificate, config, start.py) as a child, and stops PostgreSQL cleanly once
# Synapse has ended: a container stop (SIGTERM) is passed on to Synapse first.
# A restarted container finds its cluster again (crash tests); after a kill the cluster
# recovers from its WAL.
set -eu
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
data=/data/postgres
pg() { runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" "$@"; }

# After a kill the lock file names a process of the previous container, whose number may now
# belong to another process here; nothing else can be running this cluster at a start.
rm -f "$data/postmaster.pid"
pg -l /data/postgres.log -w -t 60 -s start || { tail -20 /data/postgres.log >&2; exit 1; }

sh /stickler/entrypoint.sh &
synapse=$!
trap 'kill -TERM "$synapse" 2>/dev/null || :' TERM INT HUP
status=0
wait "$synapse" || status=$?
# A trapped signal ends the wait early: wait again until Synapse has really exited.
while kill -0 "$synapse" 2>/dev/null; do wait "$synapse" || status=$?; done
pg -m fast -w -s stop || :
exit "$status"
