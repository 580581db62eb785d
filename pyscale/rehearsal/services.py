"""The managed data stores' stand-ins, as containers on the rehearsal's VPC network.

PostgreSQL primary and streaming replica, PgBouncer in front of the primary and Valkey,
each with TLS from the rehearsal CA, passwords made for this boot, and every size from the
stack's plan; for a node that terminates TLS itself, the ACME server too. `start` returns the
connection strings the node's env file gets, shaped as the clouds give them: writes through
the pool, reads straight to the replica, Valkey over rediss://.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from pyscale import render
from pyscale.capacity import CapacityPlan
from pyscale.rehearsal import tls
from pyscale.rehearsal.podman import Podman, PodmanError, host_nofile
from pyscale.rehearsal.recipes import ACME_HOST, ACME_PORT
from pyscale.urls import postgres_url

SCRIPTS = Path(__file__).with_name("scripts")
POSTGRES_PORT = 25060  # a managed database's direct port (DigitalOcean)
POOL_PORT = 25061  # its PgBouncer pool, and Valkey's TLS port
POOL_NAME = "pyscale-pool"
READY_TIMEOUT_S = 120
# Every container a stack's data stores may run, each from scripts/<name>.sh.
SERVICES = ("postgres-primary", "postgres-replica", "pgbouncer", "valkey", "acme")
# Valkey needs maxclients + 32 descriptors; a container gets at most the host's hard limit.
VALKEY_FD_MARGIN = 32


@dataclass(frozen=True)
class Addresses:
    """Fixed addresses in the stack's VPC range: gateway, services, then the nodes."""

    cidr: str
    gateway: str
    primary: str
    replica: str
    pooler: str
    valkey: str
    acme: str
    node: str

    @classmethod
    def of(cls, cidr: str) -> Addresses:
        hosts = ipaddress.ip_network(cidr).hosts()
        return cls(cidr, *(str(next(hosts)) for _ in range(7)))


class DataStores:
    """Starts, and removes, one stack's data-store containers."""

    def __init__(
        self, podman: Podman, image: str, network: str, prefix: str, addresses: Addresses,
        plan: CapacityPlan, state: Path, ca: tuple[Path, Path],
    ) -> None:  # fmt: skip
        self.podman, self.image, self.network, self.prefix = podman, image, network, prefix
        self.at, self.plan, self.state, self.ca = addresses, plan, state / "services", ca
        self.containers: list[str] = []
        self.app_password = secrets.token_urlsafe(18)

    def _run(self, service: str, address: str, script: str, env: dict[str, str]) -> str:
        assert service in SERVICES, service
        name = f"{self.prefix}-{service}"
        args = ["run", "-d", "--name", name, "--network", self.network, "--ip", address,
                "-v", f"{self.state}:/rehearsal:ro", "-v", f"{SCRIPTS}:/scripts:ro"]  # fmt: skip
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        self.podman.run(*args, self.image, "/bin/sh", f"/scripts/{script}")
        self.containers.append(name)
        return name

    def _ready(self, name: str, *probe: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            state = self.podman.inspect(name)["State"]
            if not state["Running"]:
                logs = self.podman.run("logs", name, check=False)
                raise PodmanError(f"{name} exited ({state.get('ExitCode')}):\n"
                                  f"{(logs.stdout + logs.stderr)[-3000:]}")  # fmt: skip
            if self.podman.run("exec", name, *probe, check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise PodmanError(f"{name} was not ready after {READY_TIMEOUT_S} s")

    def start(self) -> render.NodeSecrets:
        """Start everything the node connects to; the node's connection strings."""
        at, db, cache = self.at, self.plan.database, self.plan.cache
        for service, address in (("postgres", f"IP:{at.primary},IP:{at.replica}"),
                                 ("pgbouncer", f"IP:{at.pooler}"),
                                 ("valkey", f"IP:{at.valkey}")):  # fmt: skip
            tls.issue(self.ca, self.state / "tls", service, address.split(","))
        replication = secrets.token_urlsafe(18)
        sizes = {"MAX_CONNECTIONS": str(db.max_connections),
                 "RESERVED_CONNECTIONS": str(db.reserved), "PORT": str(POSTGRES_PORT)}  # fmt: skip
        primary = self._run("postgres-primary", at.primary, "postgres-primary.sh", sizes | {
            "APP_PASSWORD": self.app_password, "REPLICATION_PASSWORD": replication,
            "CIDR": at.cidr})  # fmt: skip
        self._ready(primary, "test", "-f", "/tmp/ready")
        replica = self._run("postgres-replica", at.replica, "postgres-replica.sh", sizes | {
            "PRIMARY": at.primary, "REPLICATION_PASSWORD": replication})  # fmt: skip
        pooler = self._run("pgbouncer", at.pooler, "pgbouncer.sh", {
            "PRIMARY": at.primary, "SERVER_PORT": str(POSTGRES_PORT), "PORT": str(POOL_PORT),
            "POOL": POOL_NAME, "APP_PASSWORD": self.app_password, "POOL_MODE": db.pool_mode,
            "POOL_SIZE": str(db.pool_size), "MAX_CLIENTS": str(db.pool_max_clients)})  # fmt: skip
        valkey_password = secrets.token_urlsafe(18)
        valkey = self._run("valkey", at.valkey, "valkey.sh", {
            "PORT": str(POOL_PORT), "PASSWORD": valkey_password,
            "MAX_CLIENTS": str(min(cache.max_clients, host_nofile() - VALKEY_FD_MARGIN)),
            "EVICTION_POLICY": cache.runs_with})  # fmt: skip
        self._ready(replica, "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT))
        self._ready(pooler, "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(POOL_PORT))
        self._ready(valkey, "test", "-f", "/tmp/ready")
        reads = postgres_url("pyscale", self.app_password, at.replica, POSTGRES_PORT, "pyscale")
        return render.NodeSecrets(
            database_url=postgres_url(
                "pyscale", self.app_password, at.pooler, POOL_PORT, POOL_NAME
            ),
            database_read_urls=(reads,) * db.read_replicas,
            redis_url=f"rediss://default:{valkey_password}@{at.valkey}:{POOL_PORT}/0",
            # The rehearsal CA signed every store's certificate, as the cloud's CA does.
            provider_ca=self.ca[0].read_text(),
        )

    def start_acme(self) -> None:
        """pebble, for a node that asks an ACME server for its certificate (tls: node)."""
        tls.issue(self.ca, self.state / "tls", "acme",
                  [f"DNS:{ACME_HOST}", f"IP:{self.at.acme}"])  # fmt: skip
        acme = self._run("acme", self.at.acme, "acme.sh",
                         {"NODE_ADDRESS": self.at.node, "PORT": str(ACME_PORT)})  # fmt: skip
        self._ready(acme, "sh", "-c", f"ss -Hltn 'sport = :{ACME_PORT}' | grep -q LISTEN")

    def stop(self) -> None:
        self.podman.remove(self.containers)
        self.containers = []
