#!/bin/sh
# pyscale rehearsal: the managed connection pool in front of the primary: TLS to clients
# and to the server, SCRAM, the plan's mode and sizes. Environment: PRIMARY, SERVER_PORT,
# PORT, POOL, APP_PASSWORD, POOL_MODE, POOL_SIZE, MAX_CLIENTS.
set -eu
conf=/etc/pgbouncer/rehearsal
install -d -o postgres -g postgres -m 0700 "$conf"
printf '"pyscale" "%s"\n' "$APP_PASSWORD" >"$conf/userlist.txt"
cat >"$conf/pgbouncer.ini" <<INI
[databases]
$POOL = host=$PRIMARY port=$SERVER_PORT dbname=pyscale
[pgbouncer]
listen_addr = *
listen_port = $PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $conf/userlist.txt
pool_mode = $POOL_MODE
default_pool_size = $POOL_SIZE
max_db_connections = $POOL_SIZE
reserve_pool_size = 0
max_client_conn = $MAX_CLIENTS
client_tls_sslmode = require
client_tls_key_file = /rehearsal/tls/pgbouncer.key
client_tls_cert_file = /rehearsal/tls/pgbouncer.crt
server_tls_sslmode = require
ignore_startup_parameters = extra_float_digits
INI
chown -R postgres:postgres "$conf"
touch /tmp/ready
exec runuser -u postgres -- pgbouncer "$conf/pgbouncer.ini"
