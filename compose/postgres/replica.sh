#!/bin/sh
# PostgreSQL streaming replica (compose): on first start, a base backup of the primary with
# -R (standby.signal and primary_conninfo), then the server, with the primary's settings.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pg_basebackup -h postgres-primary -p 5432 -U postgres -D "$PGDATA" -R \
        -X stream --checkpoint=fast --no-sync
    chmod 0700 "$PGDATA"
fi
exec postgres "$@"
