#!/bin/sh
# pyscale rehearsal: a read replica streaming from the primary over TLS, as a managed read
# replica (DigitalOcean) or standby serving the read endpoint (OVHcloud). Environment:
# PRIMARY, PORT, REPLICATION_PASSWORD, MAX_CONNECTIONS, RESERVED_CONNECTIONS.
set -eu
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
data=/var/lib/postgresql/rehearsal
install -d -o postgres -g postgres -m 0700 "$data"
until runuser -u postgres -- "$bin/pg_isready" -q -h "$PRIMARY" -p "$PORT"; do sleep 0.2; done
until runuser -u postgres -- env PGPASSWORD="$REPLICATION_PASSWORD" \
    "$bin/pg_basebackup" -D "$data" -R -X stream --no-sync --checkpoint=fast \
    -d "host=$PRIMARY port=$PORT user=replicator sslmode=require"; do
  rm -rf "${data:?}"/*
  sleep 1
done
install -o postgres -g postgres -m 0600 /rehearsal/tls/postgres.key "$data/server.key"
install -o postgres -g postgres -m 0644 /rehearsal/tls/postgres.crt "$data/server.crt"
touch /tmp/ready
exec runuser -u postgres -- "$bin/postgres" -D "$data" -c port="$PORT" \
  -c max_connections="$MAX_CONNECTIONS" \
  -c superuser_reserved_connections="$RESERVED_CONNECTIONS"
