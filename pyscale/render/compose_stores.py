"""The data stores of the compose project, as `pyscale node up` runs them
(pyscale/localnode/services.py): PostgreSQL's settings and client authentication, the
replica's start script, and PgBouncer's configuration, each from the plan.

Pure Python: no Pulumi import.
"""

from __future__ import annotations

from pyscale.capacity import CapacityPlan
from pyscale.localnode.services import DB_NAME, DB_USER, SERVICE_USER
from pyscale.settings import Settings

POSTGRES_PORT = 5432
POOLER_PORT = 6432
VALKEY_PORT = 6379
# Where the postgres image finds our files (mounted read-only).
PG_HBA = "/etc/postgresql/pg_hba.conf"
REPLICA_SCRIPT = "/etc/postgresql/replica.sh"


def server_settings(plan: CapacityPlan) -> list[str]:
    """PostgreSQL's settings as `pyscale node up` runs them (pyscale/localnode/services.py),
    as `postgres --name=value` arguments."""
    db = plan.database
    settings = {
        "listen_addresses": "*",
        "port": POSTGRES_PORT,
        "hba_file": PG_HBA,
        "max_connections": db.max_connections,
        "superuser_reserved_connections": db.reserved,
        "wal_level": "replica",
        "max_wal_senders": 4,
        "hot_standby": "on",
        # A throwaway local cluster: durability would only slow it down.
        "fsync": "off",
        "full_page_writes": "off",
        "synchronous_commit": "off",
        "shared_buffers": "64MB",
        "log_min_messages": "warning",
    }
    return [f"--{key}={value}" for key, value in settings.items()]


def pg_hba(s: Settings) -> str:
    return (
        "# PostgreSQL client authentication (compose, local development only): trust, from\n"
        "# the container itself and the compose network (the stack's VPC range), as the\n"
        "# local node trusts its loopback. Nothing publishes PostgreSQL's port.\n"
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        f"host all all {s.vpc_cidr} trust\n"
        f"host replication all {s.vpc_cidr} trust\n"
    )


INIT_SQL = f"""\
-- The app's role owns its database; the superuser stays {SERVICE_USER} (as `pyscale node up`).
CREATE ROLE {DB_USER} LOGIN;
ALTER DATABASE {DB_NAME} OWNER TO {DB_USER};
"""

REPLICA_SH = f"""\
#!/bin/sh
# PostgreSQL streaming replica (compose): on first start, a base backup of the primary with
# -R (standby.signal and primary_conninfo), then the server, with the primary's settings.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pg_basebackup -h postgres-primary -p {POSTGRES_PORT} -U {SERVICE_USER} -D "$PGDATA" -R \\
        -X stream --checkpoint=fast --no-sync
    chmod 0700 "$PGDATA"
fi
exec postgres "$@"
"""


def pgbouncer_ini(plan: CapacityPlan, server: str) -> str:
    """PgBouncer as `pyscale node up` runs it: the plan's mode and sizes, trust auth."""
    db = plan.database
    return "\n".join(
        [
            f"; PgBouncer in front of {server} (compose): the plan's pool, as `pyscale node up`.",
            "[databases]",
            f"{DB_NAME} = host={server} port={POSTGRES_PORT} dbname={DB_NAME}",
            "[pgbouncer]",
            "listen_addr = 0.0.0.0",
            f"listen_port = {POOLER_PORT}",
            "unix_socket_dir =",
            "auth_type = trust",
            "auth_file = /etc/pgbouncer/userlist.txt",
            f"admin_users = {SERVICE_USER}",
            f"pool_mode = {db.pool_mode}",
            f"default_pool_size = {db.pool_size}",
            "reserve_pool_size = 0",
            f"max_db_connections = {db.pool_size}",
            f"max_client_conn = {db.pool_max_clients}",
            "ignore_startup_parameters = extra_float_digits",
            "",
        ]
    )
