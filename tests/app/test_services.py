"""The demo app against real PostgreSQL (primary + streaming replica) and real Redis.

The services run in a network namespace of their own, as the local node runs them; each
scenario runs in a process inside it (tests/app/probes.py), gevent-patched like a Gunicorn
gevent worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyscale import capacity, settings
from pyscale.localnode import (
    ENDPOINTS,
    Namespace,
    Services,
    Supervisor,
    delete_namespace,
    prepare,
)

# The scenarios by app interface: the WSGI app under gevent's patching, the ASGI twin on an
# asyncio event loop.
PROBES = {
    "wsgi": Path(__file__).with_name("probes.py"),
    "asgi": Path(__file__).with_name("asgi_probes.py"),
}
INTERFACES = pytest.mark.parametrize("interface", list(PROBES))
NAMESPACE = "pyscale-apptest"
DIRECT_PRIMARY = f"postgresql://pyscale@127.0.0.1:{ENDPOINTS.primary}/pyscale"
# The pool scenario counts its own connections by this name (probes.py, asgi_probes.py).
POOL_PROBE_URL = f"{DIRECT_PRIMARY}?application_name=pyscale-pool-probe"
ADMIN = f"postgresql://postgres@127.0.0.1:{ENDPOINTS.primary}/postgres"


@pytest.fixture(scope="module")
def ns() -> Iterator[Namespace]:
    prepare("the app tests")
    stack = settings.parse("dev", {"tls": "off", "database": {"readReplicas": 1}, "nodeCount": 1})
    plan = capacity.plan(stack)
    state = Path(tempfile.mkdtemp(prefix="pyscale-app-tests-"))
    state.chmod(0o755)
    delete_namespace(NAMESPACE)
    namespace = Namespace.for_name(NAMESPACE)
    sup = Supervisor(state)
    try:
        namespace.create()
        Services(sup, namespace, state, plan.database, plan.cache).start()
        yield namespace
    finally:
        sup.stop_all()
        delete_namespace(NAMESPACE)
        shutil.rmtree(state, ignore_errors=True)


def probe(ns: Namespace, name: str, interface: str = "wsgi", **env: str) -> dict:
    done = subprocess.run(
        ns.exec(sys.executable, str(PROBES[interface]), name),
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_psycopg_waits_are_cooperative_under_gevent(ns: Namespace) -> None:
    result = probe(ns, "gevent_waits", DATABASE_URL=DIRECT_PRIMARY)
    assert result["wait"] != "wait_c", result
    # Ten 0.5 s queries: serial waits would take 5 s.
    assert result["elapsed"] < 2.0, result


@INTERFACES
def test_writes_reach_the_primary_and_reads_the_replica(ns: Namespace, interface: str) -> None:
    result = probe(
        ns,
        "read_write",
        interface,
        DATABASE_URL=ENDPOINTS.database_url,
        DATABASE_READ_URLS=ENDPOINTS.read_url,
        DB_POOL_SIZE="2",
        DB_READ_POOL_SIZE="2",
    )
    assert result["write"][0] == 201 and result["write"][1]["server"] == "primary"
    assert result["read"][0] == 200 and result["read"][1]["server"] == "replica"


@INTERFACES
def test_pool_bounds_server_connections_and_answers_503_when_exhausted(
    ns: Namespace, interface: str
) -> None:
    result = probe(
        ns,
        "pool_bound",
        interface,
        DATABASE_URL=POOL_PROBE_URL,
        ADMIN_URL=ADMIN,
        DB_POOL_SIZE="3",
        POOL_TIMEOUT_S="0.5",
    )
    assert result["statuses"] == [201] * 40, result
    assert 1 <= result["peak"] <= 3, result
    status, retry_after, body = result["saturated"]
    assert (status, retry_after) == (503, "1") and "pool exhausted" in body, result
    assert 0.4 < result["waited"] < 1.5, result
    # The node's metrics saw it: the pool full, one request waiting; then nothing held.
    assert result["gauges"] == {"during": [3, 1], "after": [0, 0]}, result
    if interface == "asgi":
        # The lifespan shutdown closed the pool: its connections are gone from the server.
        assert result["held_before_shutdown"] >= 1 and result["held_after_shutdown"] == 0, result


@INTERFACES
def test_cache_counts_and_answers_503_when_redis_is_down(ns: Namespace, interface: str) -> None:
    result = probe(ns, "cache", interface, REDIS_URL=ENDPOINTS.redis_url, CACHE_POOL_SIZE="2")
    first, second = result["hits"]
    assert second == first + 1
    assert result["down"][0] == 503, result
