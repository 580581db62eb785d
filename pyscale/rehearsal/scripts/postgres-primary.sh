#!/bin/sh
# pyscale rehearsal: the managed PostgreSQL primary. TLS only, SCRAM passwords, the plan's
# max_connections; the app's database owned by the administrator and the app's role given
# what README's "Deploying for real" tells an operator to grant (PostgreSQL 15+ on
# DigitalOcean). Environment: APP_PASSWORD, REPLICATION_PASSWORD, MAX_CONNECTIONS,
# RESERVED_CONNECTIONS, PORT, CIDR.
set -eu
bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)
data=/var/lib/postgresql/rehearsal
install -d -o postgres -g postgres -m 0700 "$data"
runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres -E UTF8 --no-sync \
  --auth-local=peer --auth-host=scram-sha-256 >/dev/null
install -o postgres -g postgres -m 0600 /rehearsal/tls/postgres.key "$data/server.key"
install -o postgres -g postgres -m 0644 /rehearsal/tls/postgres.crt "$data/server.crt"
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '*'
port = $PORT
max_connections = $MAX_CONNECTIONS
superuser_reserved_connections = $RESERVED_CONNECTIONS
ssl = on
password_encryption = scram-sha-256
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
synchronous_commit = off
shared_buffers = 64MB
CONF
cat >"$data/pg_hba.conf" <<HBA
local all postgres peer
hostssl replication replicator $CIDR scram-sha-256
hostssl all all $CIDR scram-sha-256
hostnossl all all 0.0.0.0/0 reject
HBA
runuser -u postgres -- "$bin/postgres" -D "$data" &
server=$!
trap 'kill -INT "$server"' INT TERM
until runuser -u postgres -- "$bin/pg_isready" -q -p "$PORT"; do sleep 0.2; done
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres \
  -v app_password="$APP_PASSWORD" -v replication_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE pyscale LOGIN PASSWORD :'app_password';
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'replication_password';
CREATE DATABASE pyscale;
\connect pyscale
GRANT USAGE, CREATE ON SCHEMA public TO pyscale;
SQL
touch /tmp/ready
wait "$server"
