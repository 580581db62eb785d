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
from pyscale.localnode.commands import NodeError, run_checked, wait_until
from pyscale.localnode.host import POSTGRESQL_SERVERS
from pyscale.localnode.netns import Namespace
from pyscale.localnode.procs import READY_TIMEOUT_S, Supervisor

DB_NAME = "pyscale"
DB_USER = "pyscale"
SERVICE_USER = "postgres"  # PostgreSQL and PgBouncer refuse to run as root
# Redis memory for a local run: the cache holds a counter; the eviction policy is the plan's.
REDIS_MAXMEMORY = "256mb"


@dataclass(frozen=True)
class Endpoints:
    """Where each service listens inside the namespace, and the URLs the app is given."""

    primary: int = 5432
    replica: int = 5433
    primary_pooler: int = 6432
    replica_pooler: int = 6433
    redis: int = 6379

    @property
    def database_url(self) -> str:
        """Writes: through the primary's PgBouncer, as the app reaches a managed cluster."""
        return f"postgresql://{DB_USER}@127.0.0.1:{self.primary_pooler}/{DB_NAME}"

    @property
    def read_url(self) -> str:
        return f"postgresql://{DB_USER}@127.0.0.1:{self.replica_pooler}/{DB_NAME}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis}/0"


ENDPOINTS = Endpoints()


def pg_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian layout)."""
    found = sorted(
        POSTGRESQL_SERVERS.glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise NodeError(f"PostgreSQL server not found under {POSTGRESQL_SERVERS} (apt: postgresql)")
    return found[-1].parent


def psql(ns: Namespace, port: int, sql: str, database: str = DB_NAME) -> str:
    """Run SQL as the superuser inside `ns`: unaligned, tuples only, fields split by '|'.

    `port` may be a PgBouncer's with database "pgbouncer" (its admin console)."""
    argv = ns.exec(
        str(pg_bin() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
        "-h", "127.0.0.1", "-p", str(port), "-U", SERVICE_USER, "-d", database, "-c", sql,
    )  # fmt: skip
    return run_checked(argv, f"psql on port {port}").strip()


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
        self._pooler("pgbouncer-primary", ENDPOINTS.primary, ENDPOINTS.primary_pooler)
        self._pooler("pgbouncer-replica", ENDPOINTS.replica, ENDPOINTS.replica_pooler)
        self._redis()

    def _accepting(self, port: int) -> bool:
        """pg_isready: the server (or PgBouncer) on `port` accepts connections."""
        argv = self.ns.exec(str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port))
        return subprocess.run(argv, check=False).returncode == 0

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
        run_checked(
            as_service_user(
                str(self.bin / "initdb"), "-D", str(data), "-U", SERVICE_USER,
                "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions",
            ),
            "initdb",
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(self._server_conf(ENDPOINTS.primary))
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host replication all 127.0.0.1/32 trust\n"
        )
        self.sup.start_ready(
            "postgres-primary",
            self.ns.exec(*as_service_user(str(self.bin / "postgres"), "-D", str(data))),
            ready=lambda: self._accepting(ENDPOINTS.primary),
            what="the PostgreSQL primary",
            stop_signal=signal.SIGINT,  # PostgreSQL's fast shutdown
        )
        for sql in (f"CREATE ROLE {DB_USER} LOGIN", f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}"):
            psql(self.ns, ENDPOINTS.primary, sql, database="postgres")

    def _replica(self) -> None:
        data = self.root / "replica"
        # -R writes standby.signal and primary_conninfo; a fast checkpoint starts the copy at
        # once instead of after a spread checkpoint (minutes).
        run_checked(
            self.ns.exec(
                *as_service_user(
                    str(self.bin / "pg_basebackup"), "-h", "127.0.0.1",
                    "-p", str(ENDPOINTS.primary), "-U", SERVICE_USER, "-D", str(data), "-R",
                    "-X", "stream", "--no-sync", "--checkpoint=fast",
                )
            ),
            "pg_basebackup of the replica",
        )  # fmt: skip
        self.sup.start_ready(
            "postgres-replica",
            self.ns.exec(
                *as_service_user(
                    str(self.bin / "postgres"), "-D", str(data), "-p", str(ENDPOINTS.replica)
                )
            ),
            ready=lambda: self._accepting(ENDPOINTS.replica),
            what="the PostgreSQL read replica",
            stop_signal=signal.SIGINT,
        )
        streaming = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        wait_until(
            lambda: psql(self.ns, ENDPOINTS.primary, streaming, database="postgres") == "1",
            "the replica to stream from the primary",
            READY_TIMEOUT_S,
        )

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
        self.sup.start_ready(
            name,
            self.ns.exec(*as_service_user("pgbouncer", str(ini))),
            ready=lambda: self._accepting(listen_port),
            what=name,
            stop_signal=signal.SIGINT,  # safe shutdown: waits for clients to finish
            nofile=self.db.pool_max_clients + 2 * self.db.pool_size + 64,
        )

    def _redis(self) -> None:
        data = self.root / "redis"
        data.mkdir(exist_ok=True)
        ping = self.ns.exec("redis-cli", "-p", str(ENDPOINTS.redis), "ping")

        def pong() -> bool:
            done = subprocess.run(ping, capture_output=True, text=True, check=False)
            return done.stdout.strip() == "PONG"

        self.sup.start_ready(
            "redis",
            self.ns.exec(
                "redis-server", "--bind", "127.0.0.1", "--port", str(ENDPOINTS.redis),
                "--maxclients", str(self.cache.max_clients),
                "--maxmemory", REDIS_MAXMEMORY, "--maxmemory-policy", self.cache.eviction_policy,
                "--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no",
            ),
            ready=pong,
            what="Redis",
            nofile=self.cache.max_clients + 64,  # Redis needs maxclients + 32 descriptors
        )  # fmt: skip
