"""The node's backing services, real and local: PostgreSQL primary with one streaming read
replica, a PgBouncer in front of each (as the managed databases put one in front of every
cluster), and a Redis server standing in for Valkey (same protocol; Debian ships no valkey).

Every number comes from the capacity plan: the servers' max_connections, PgBouncer's pool
mode, pool size and client limit, Redis's maxclients and eviction policy. Everything listens
on the node namespace's loopback only, with trust authentication: nothing outside the
namespace can reach it, and a local run has no credentials to leak.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyscale.capacity import CachePlan, DatabasePlan
from pyscale.localnode.netns import Namespace
from pyscale.localnode.procs import NodeError, Supervisor, wait_until

PRIMARY_PORT = 5432
REPLICA_PORT = 5433
PRIMARY_POOLER_PORT = 6432
REPLICA_POOLER_PORT = 6433
REDIS_PORT = 6379
DB_NAME = "pyscale"
DB_USER = "pyscale"
SERVICE_USER = "postgres"  # PostgreSQL and PgBouncer refuse to run as root
# Redis memory for a local run: the cache holds a counter; the eviction policy is the plan's.
REDIS_MAXMEMORY = "256mb"
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Endpoints:
    """What the app's environment points at, inside the namespace."""

    database_url: str
    read_url: str
    redis_url: str


ENDPOINTS = Endpoints(
    database_url=f"postgresql://{DB_USER}@127.0.0.1:{PRIMARY_POOLER_PORT}/{DB_NAME}",
    read_url=f"postgresql://{DB_USER}@127.0.0.1:{REPLICA_POOLER_PORT}/{DB_NAME}",
    redis_url=f"redis://127.0.0.1:{REDIS_PORT}/0",
)


def pg_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian layout)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise NodeError("PostgreSQL server not found under /usr/lib/postgresql (apt: postgresql)")
    return found[-1].parent


def as_service_user(*argv: str) -> list[str]:
    """Drop to the postgres user without a PAM session (setpriv execs, so the pid is kept)."""
    return [
        "setpriv",
        f"--reuid={SERVICE_USER}",
        f"--regid={SERVICE_USER}",
        "--init-groups",
        "--",
        *argv,
    ]


class Services:
    """Starts the backing services of one node into a supervisor, in dependency order."""

    def __init__(
        self, sup: Supervisor, ns: Namespace, state: Path, db: DatabasePlan, cache: CachePlan
    ) -> None:
        self.sup, self.ns, self.db, self.cache = sup, ns, db, cache
        self.root = state / "services"
        self.bin = pg_bin()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.root, SERVICE_USER, SERVICE_USER)
        self._primary()
        self._replica()
        self._pooler("pgbouncer-primary", PRIMARY_PORT, PRIMARY_POOLER_PORT)
        self._pooler("pgbouncer-replica", REPLICA_PORT, REPLICA_POOLER_PORT)
        self._redis()

    def psql(self, port: int, sql: str, database: str = DB_NAME) -> str:
        """Run SQL as the superuser inside the namespace; unaligned, tuples only."""
        argv = self.ns.exec(
            str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(port), "-U", SERVICE_USER, "-d", database, "-c", sql,
        )  # fmt: skip
        return self.sup.run(argv, f"psql on port {port}").strip()

    def _ready(self, port: int, what: str) -> None:
        isready = self.ns.exec(
            str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)
        )
        wait_until(
            lambda: subprocess.run(isready, check=False).returncode == 0, what, READY_TIMEOUT_S
        )

    def _server_conf(self, port: int) -> str:
        # fsync/full_page_writes off: a throwaway local cluster, rebuilt on every `node up`;
        # durability settings would only slow the tests without changing what they check.
        return "\n".join(
            [
                "listen_addresses = '127.0.0.1'",
                f"port = {port}",
                f"unix_socket_directories = '{self.root}'",
                f"max_connections = {self.db.max_connections}",
                f"superuser_reserved_connections = {self.db.reserved}",
                "wal_level = replica",
                "max_wal_senders = 4",
                "hot_standby = on",
                "fsync = off",
                "full_page_writes = off",
                "synchronous_commit = off",
                "shared_buffers = 64MB",
                "log_min_messages = warning",
                "",
            ]
        )

    def _primary(self) -> None:
        data = self.root / "primary"
        self.sup.run(
            as_service_user(
                str(self.bin / "initdb"), "-D", str(data), "-U", SERVICE_USER,
                "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
            ),
            "initdb",
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(self._server_conf(PRIMARY_PORT))
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        proc = self.sup.start(
            "postgres-primary",
            self.ns.exec(*as_service_user(str(self.bin / "postgres"), "-D", str(data))),
            stop_signal=signal.SIGINT,  # PostgreSQL's fast shutdown
        )
        self._ready(PRIMARY_PORT, "the PostgreSQL primary")
        self.sup.check_running(proc)
        self.psql(PRIMARY_PORT, f"CREATE ROLE {DB_USER} LOGIN", database="postgres")
        self.psql(PRIMARY_PORT, f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}", database="postgres")

    def _replica(self) -> None:
        data = self.root / "replica"
        # -R writes standby.signal and primary_conninfo; a fast checkpoint starts the copy at
        # once instead of after a spread checkpoint (minutes).
        self.sup.run(
            self.ns.exec(
                *as_service_user(
                    str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT),
                    "-U", SERVICE_USER, "-D", str(data), "-R", "-X", "stream", "--no-sync",
                    "--checkpoint=fast",
                )
            ),
            "pg_basebackup of the replica",
        )  # fmt: skip
        proc = self.sup.start(
            "postgres-replica",
            self.ns.exec(
                *as_service_user(
                    str(self.bin / "postgres"), "-D", str(data), "-p", str(REPLICA_PORT)
                )
            ),
            stop_signal=signal.SIGINT,
        )
        self._ready(REPLICA_PORT, "the PostgreSQL read replica")
        self.sup.check_running(proc)
        wait_until(
            lambda: self.psql(PRIMARY_PORT, "SELECT count(*) FROM pg_stat_replication "
                              "WHERE state = 'streaming'", database="postgres") == "1",
            "the replica to stream from the primary",
            READY_TIMEOUT_S,
        )  # fmt: skip

    def _pooler(self, name: str, server_port: int, listen_port: int) -> None:
        """PgBouncer with the plan's mode and sizes; max_db_connections caps the server side."""
        conf_dir = self.root / name
        conf_dir.mkdir(exist_ok=True)
        users = conf_dir / "users.txt"
        users.write_text(f'"{DB_USER}" ""\n"{SERVICE_USER}" ""\n')
        ini = conf_dir / "pgbouncer.ini"
        ini.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"{DB_NAME} = host=127.0.0.1 port={server_port} dbname={DB_NAME}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {listen_port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {users}",
                    f"admin_users = {SERVICE_USER}",
                    f"pool_mode = {self.db.pool_mode}",
                    f"default_pool_size = {self.db.pool_size}",
                    "reserve_pool_size = 0",
                    f"max_db_connections = {self.db.pool_size}",
                    f"max_client_conn = {self.db.pool_max_clients}",
                    "ignore_startup_parameters = extra_float_digits",
                    "",
                ]
            )
        )
        shutil.chown(conf_dir, SERVICE_USER, SERVICE_USER)
        proc = self.sup.start(
            name,
            self.ns.exec(*as_service_user("pgbouncer", str(ini))),
            stop_signal=signal.SIGINT,  # safe shutdown: waits for clients to finish
            nofile=self.db.pool_max_clients + 2 * self.db.pool_size + 64,
        )
        self._ready(listen_port, name)
        self.sup.check_running(proc)

    def _redis(self) -> None:
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        proc = self.sup.start(
            "redis",
            self.ns.exec(
                "redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT),
                "--maxclients", str(self.cache.max_clients),
                "--maxmemory", REDIS_MAXMEMORY, "--maxmemory-policy", self.cache.eviction_policy,
                "--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no",
            ),
            nofile=self.cache.max_clients + 64,  # Redis needs maxclients + 32 descriptors
        )  # fmt: skip
        ping = self.ns.exec("redis-cli", "-p", str(REDIS_PORT), "ping")

        def pong() -> bool:
            done = subprocess.run(ping, capture_output=True, text=True, check=False)
            return done.stdout.strip() == "PONG"

        wait_until(pong, "Redis", READY_TIMEOUT_S)
        self.sup.check_running(proc)
