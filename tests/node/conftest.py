"""One real local node for the whole node suite: started once, stopped at the end.

The stack is dev's shape (one 2-vCPU node, PgBouncer in transaction mode) with one read
replica, so that reads have a replica to come from, and plain HTTP. It is written to a
temporary stack directory: the repository's stack files are not touched.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyscale import settings
from pyscale.localnode import LocalNode, packages
from pyscale.localnode.netns import Namespace
from pyscale.localnode.services import PRIMARY_POOLER_PORT, PRIMARY_PORT, REPLICA_PORT
from tests.node.client import raise_nofile

STACK = "nodetest"
DOMAIN = "node.pyscale.example.com"
STACK_FILE = f"""\
config:
  pyscale:cloud: digitalocean
  pyscale:region: fra1
  pyscale:environment: dev
  pyscale:targetConcurrency: 2000
  pyscale:nodeSize: s-2vcpu-4gb
  pyscale:nodeCount: 1
  pyscale:domain: {DOMAIN}
  pyscale:tls: "off"
  pyscale:database:
    size: db-s-1vcpu-1gb
    readReplicas: 1
    poolMode: transaction
  pyscale:cache:
    size: db-s-1vcpu-1gb
"""


@dataclass(frozen=True)
class RunningNode:
    node: LocalNode
    info: dict
    ns: Namespace

    @property
    def ip(self) -> str:
        return self.ns.node_ip

    @property
    def plan(self) -> dict:
        return self.info["plan"]

    def psql(self, port: int, sql: str, database: str = "pyscale") -> str:
        argv = self.ns.exec(
            "psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(port),
            "-U", "postgres", "-d", database, "-c", sql,
        )  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()

    async def app_backends(self, port: int) -> int:
        """The app's server connections on one PostgreSQL server (pg_stat_activity)."""
        argv = self.ns.exec(
            "psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "-d", "postgres", "-c",
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND usename = 'pyscale'",
        )  # fmt: skip
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        return int(out.strip())

    async def pooler_clients(self, port: int = PRIMARY_POOLER_PORT) -> int:
        """Client connections PgBouncer holds for the app (active + waiting)."""
        argv = self.ns.exec(
            "psql", "-X", "-A", "-t", "-F", ",", "-h", "127.0.0.1", "-p", str(port),
            "-U", "postgres", "-d", "pgbouncer", "-c", "SHOW POOLS",
        )  # fmt: skip
        proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        total = 0
        for line in out.decode().splitlines():
            fields = line.split(",")
            if fields[0] == "pyscale":
                total += int(fields[2]) + int(fields[3])  # cl_active + cl_waiting
        return total

    def gunicorn_workers(self) -> list[int]:
        master = self.info["gunicorn_pid"]
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    packages.ensure()
    raise_nofile()
    stack_dir = tmp_path_factory.mktemp("stack")
    (stack_dir / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE)
    # Not under pytest's 0700 tmp: PostgreSQL and Nginx's workers run as other users.
    state_root = Path(tempfile.mkdtemp(prefix="pyscale-node-tests-"))
    state_root.chmod(0o755)
    local = LocalNode(STACK, state_root)
    local.down()  # a node left over from an interrupted run
    info = local.up(settings.load(STACK, stack_dir))
    try:
        yield RunningNode(local, info, Namespace(**info["namespace"]))
    finally:
        local.down()
        shutil.rmtree(state_root, ignore_errors=True)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


__all__ = ["DOMAIN", "PRIMARY_PORT", "REPLICA_PORT", "RunningNode", "wait_for"]
