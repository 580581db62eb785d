"""One real local node for the whole node suite: started once, stopped at the end.

The stack is dev's shape (one 2-vCPU node, PgBouncer in transaction mode) with one read
replica, so that reads have a replica to come from, and plain HTTP, once with the WSGI demo
on gevent and once with its ASGI twin on uvicorn. It is written to a
temporary stack directory: the repository's stack files are not touched.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pyscale import capacity, settings
from pyscale.localnode import (
    ENDPOINTS,
    LocalNode,
    Namespace,
    NodeInfo,
    prepare,
    psql,
    raise_nofile,
)

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


def stack_file(**config: object) -> str:
    """A stack file for a node of its own: the suite's cloud and region, then `config`
    (`pyscale:` keys without the prefix; `edge={...}` for a group)."""
    keys = {"cloud": "digitalocean", "region": "fra1", "targetConcurrency": 2000, **config}
    return yaml.safe_dump({"config": {f"pyscale:{k}": v for k, v in keys.items()}})


# The app's role, as PostgreSQL and PgBouncer see its connections.
APP_ROLE = "pyscale"


@contextmanager
def local_node(
    stack_dir: Path, *, name: str = "", services: bool = True, stack_file: str = STACK_FILE
) -> Iterator[tuple[LocalNode, NodeInfo]]:
    """The suite's stack (or `stack_file`) up as a node (`name` tells a second one apart),
    always taken down.

    Its state lives outside pytest's 0700 temporary directories: PostgreSQL and Nginx's
    workers run as other users and must traverse it."""
    prepare("the node tests", services)
    raise_nofile(capacity.LINUX_NR_OPEN)  # the load client's thousands of sockets
    (stack_dir / f"Pulumi.{STACK}.yaml").write_text(stack_file)
    state_root = Path(tempfile.mkdtemp(prefix="pyscale-node-tests-"))
    state_root.chmod(0o755)
    node = LocalNode(STACK, state_root, name=name)
    node.down()  # a namespace left over from an interrupted run
    try:
        yield node, node.up(settings.load(STACK, stack_dir), services=services)
    finally:
        node.down()
        shutil.rmtree(state_root, ignore_errors=True)


@dataclass(frozen=True)
class RunningNode:
    node: LocalNode
    info: NodeInfo

    @property
    def ns(self) -> Namespace:
        return self.info.namespace

    @property
    def ip(self) -> str:
        return self.ns.node_ip

    @property
    def plan(self) -> capacity.CapacityPlan:
        return self.info.plan

    async def app_backends(self, port: int) -> int:
        """The app's server connections on one PostgreSQL server (pg_stat_activity)."""
        sql = (
            "SELECT count(*) FROM pg_stat_activity "
            f"WHERE backend_type = 'client backend' AND usename = '{APP_ROLE}'"
        )
        return int(await asyncio.to_thread(psql, self.ns, port, sql, "postgres"))

    async def pooler_clients(self, port: int = ENDPOINTS.primary_pooler) -> int:
        """Client connections PgBouncer holds for the app (active + waiting)."""
        pools = await asyncio.to_thread(psql, self.ns, port, "SHOW POOLS", "pgbouncer")
        total = 0
        for line in pools.splitlines():
            fields = line.split("|")
            if fields[1] == APP_ROLE:  # database, user, cl_active, cl_waiting, ...
                total += int(fields[2]) + int(fields[3])
        return total

    def gunicorn_workers(self) -> list[int]:
        master = self.info.gunicorn_pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]


@pytest.fixture(scope="session", params=["wsgi", "asgi"])
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNode]:
    """The suite's node, once per app interface: the ASGI demo on uvicorn must pass every
    test the gevent node passes (one node at a time: pytest finishes one before the next)."""
    stack = STACK_FILE + f"  pyscale:app:\n    interface: {request.param}\n"
    with local_node(tmp_path_factory.mktemp("stack"), stack_file=stack) as (local, info):
        assert info.plan.gunicorn.interface == request.param
        yield RunningNode(local, info)
