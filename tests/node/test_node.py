"""The rendered node, running: it answers, its numbers are the rendered ones, its database
chain holds under load, it reloads and survives a killed worker without losing requests,
and bad input gets a clean refusal while everyone else is still served.

Every load here is bounded (connections and seconds) and goes to the node's own namespace.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import time
import urllib.request
from pathlib import Path

from pyscale import render
from pyscale.localnode import ENDPOINTS, psql, wait_until
from tests.node.client import Report, run_load
from tests.node.conftest import DOMAIN, RunningNode


def _get(node: RunningNode, path: str, method: str = "GET", host: str = DOMAIN) -> tuple[int, str]:
    request = urllib.request.Request(f"http://{node.ip}{path}", method=method)
    request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _soft_nofile(pid: int) -> int:
    """The process's soft descriptor limit, from /proc (what it can actually open)."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError(f"no 'Max open files' in /proc/{pid}/limits")


def _load(node: RunningNode, concurrency: int, duration: float, path_for, during=None) -> Report:
    return asyncio.run(
        run_load(node.ip, 80, DOMAIN, concurrency, duration, path_for, timeout=30, during=during)
    )


def test_node_answers_every_endpoint(node: RunningNode) -> None:
    assert _get(node, "/healthz") == (200, "ok\n")
    status, body = _get(node, "/")
    assert status == 200 and "pyscale" in body
    assert _get(node, "/cache")[0] == 200
    assert _get(node, "/io?ms=10") == (200, '{"waited_ms":10}\n')


def test_node_runs_the_rendered_numbers(node: RunningNode) -> None:
    plan = node.plan
    # The rendered files run from the state directory; the host's own Nginx is untouched.
    assert str(node.node.state) not in Path("/etc/nginx/nginx.conf").read_text()
    assert len(node.gunicorn_workers()) == plan.gunicorn.workers
    conf = (node.node.layout.root / "etc/pyscale/gunicorn.conf.py").read_text()
    assert f"worker_connections = {plan.gunicorn.worker_connections}" in conf
    assert f"backlog = {plan.gunicorn.backlog}" in conf
    assert node.info.sysctls_applied["net.core.somaxconn"] == str(plan.kernel.somaxconn)
    assert node.ns.read_sysctl("net.core.somaxconn") == str(plan.kernel.somaxconn)
    low, high = plan.kernel.ip_local_port_range
    assert node.ns.read_sysctl("net.ipv4.ip_local_port_range") == f"{low} {high}"
    # Each process runs with its unit's LimitNOFILE, as systemd would give it.
    for pid, limit in (
        (node.info.gunicorn_pid, plan.gunicorn.limit_nofile),
        (node.info.nginx_pid, plan.nginx.limit_nofile),
    ):
        assert _soft_nofile(pid) == limit
    pgbouncer = psql(node.ns, ENDPOINTS.primary_pooler, "SHOW CONFIG", database="pgbouncer")
    assert f"pool_mode|{plan.database.pool_mode}" in pgbouncer


def test_writes_go_to_the_primary_and_reads_come_from_the_replica(node: RunningNode) -> None:
    status, body = _get(node, "/db", method="POST")
    written = json.loads(body)
    assert status == 201 and written["server"] == "primary"
    assert written["port"] == ENDPOINTS.primary
    status, body = _get(node, "/db")
    read = json.loads(body)
    assert status == 200 and read["server"] == "replica" and read["port"] == ENDPOINTS.replica

    def replicated() -> bool:
        return json.loads(_get(node, f"/db?id={written['id']}")[1])["found"]

    wait_until(replicated, f"row {written['id']} to reach the replica", 10)


def _mixed(n: int) -> tuple[str, str]:
    """Mostly I/O waits, with a tenth of database and cache requests: enough to drive the
    pools to their bounds without making a 2-core machine's database the bottleneck. The
    waits are long (1.5 s) so that 3,000 connections ask about 2,000 requests/s, which the
    2 cores hold beside the load generator: at 500 ms (6,000/s asked) the CPU saturates, the
    gevent loops fall behind, and a worker's three read connections are held long enough
    that GET /db now and then waits out the app's 5 s pool timeout (503), a test of the
    machine's CPU rather than of the chain."""
    roll = random.random()
    if roll < 0.02:
        return "POST", "/db"
    if roll < 0.08:
        return "GET", "/db"
    if roll < 0.12:
        return "GET", "/cache"
    return "GET", "/io?ms=1500"


def test_thousands_of_connections_without_errors_within_the_database_budget(
    node: RunningNode,
) -> None:
    db, gunicorn = node.plan.database, node.plan.gunicorn
    samples: dict[str, list[int]] = {"primary": [], "replica": [], "pooler_clients": []}

    async def sample() -> None:
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline:
            samples["primary"].append(await node.app_backends(ENDPOINTS.primary))
            samples["replica"].append(await node.app_backends(ENDPOINTS.replica))
            samples["pooler_clients"].append(await node.pooler_clients())
            await asyncio.sleep(0.2)

    report = _load(node, 3000, 10, _mixed, during=sample)
    assert not report.errors, report.summary()
    assert report.peak_open >= 2900, report.summary()
    assert len(report.outcomes) > 5000, report.summary()
    # The chain the plan promises: PgBouncer caps server connections at its pool, and the
    # app's pools cap the clients at workers x per-process pool.
    assert max(samples["primary"]) <= db.pool_size, samples["primary"]
    assert max(samples["replica"]) <= db.pool_size, samples["replica"]
    assert max(samples["primary"]) > 0, "the load never reached the primary"
    assert max(samples["pooler_clients"]) <= gunicorn.workers * db.per_process_pool


def test_graceful_reloads_under_load_lose_no_request(node: RunningNode) -> None:
    before = set(node.gunicorn_workers())

    async def reload() -> None:
        await asyncio.sleep(1.5)
        os.kill(node.info.gunicorn_pid, signal.SIGHUP)
        await asyncio.sleep(2)
        await asyncio.to_thread(node.node.reload_nginx)

    report = _load(node, 2000, 7, lambda n: ("GET", "/io?ms=300"), during=reload)
    assert not report.errors, report.summary()
    # Old workers finish their in-flight requests and idle upstream connections first, so
    # give them a moment (a loaded 2-core machine), but they must go.
    deadline = time.monotonic() + 20
    while (after := set(node.gunicorn_workers())) & before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert after and not after & before, f"SIGHUP left old workers {after & before} running"


def test_a_killed_worker_is_respawned_and_errors_stop_within_two_seconds(
    node: RunningNode,
) -> None:
    workers = node.plan.gunicorn.workers
    killed: dict[str, float] = {}

    async def kill() -> None:
        await asyncio.sleep(2)
        victim = node.gunicorn_workers()[0]
        killed["at"] = time.monotonic()
        killed["pid"] = victim
        os.kill(victim, signal.SIGKILL)

    report = _load(node, 2000, 7, lambda n: ("GET", "/io?ms=200"), during=kill)
    current = node.gunicorn_workers()
    assert len(current) == workers and killed["pid"] not in current
    late = [o for o in report.errors if o.started > killed["at"] + 2]
    assert not late, f"errors went on after 2 s: {report.summary()}"
    assert len(report.outcomes) > 2000, report.summary()


def test_beyond_the_nodes_slots_gevent_queues_and_uvicorn_refuses(node: RunningNode) -> None:
    """More requests in flight than the node's workers x worker_connections, through Nginx:
    a full gevent worker stops accepting, so the extra requests wait in the accept queue and
    are all served; a full uvicorn worker answers 503 at once (pyscale_asgi_worker), and the
    slots it holds are still served. Nothing else fails on either."""
    g = node.plan.gunicorn
    slots = g.workers * g.worker_connections
    report = _load(node, slots + 300, 5, lambda n: ("GET", "/io?ms=2500"))
    served = [o for o in report.outcomes if o.status == 200]
    assert {o.status for o in report.errors} <= {503}, report.summary()
    assert not [o for o in report.errors if o.error], report.summary()
    if g.interface == "wsgi":
        assert not report.errors, report.summary()
    else:
        assert report.errors, f"no request was refused past {slots} slots: {report.summary()}"
    # Every slot served: the first wave alone fills them.
    assert len(served) >= slots, report.summary()


def _raw(node: RunningNode, data: bytes, timeout: float = 5) -> bytes:
    """Send raw bytes; everything the server answers before it closes (b'' if nothing).

    The client then half-closes, as one that has sent all it will: after refusing a body
    (413) Nginx lingers, reading what the client still sends, until EOF or its 5 s
    lingering_timeout, which raced this socket's own 5 s timeout."""
    with socket.create_connection((node.ip, 80), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def test_bad_input_is_refused_cleanly_and_others_are_still_served(node: RunningNode) -> None:
    # Slow headers first: they are held open while everything else runs, then must be shut.
    slow = []
    for _ in range(200):
        sock = socket.create_connection((node.ip, 80), timeout=5)
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {DOMAIN}\r\nX-Slow: ".encode())
        slow.append(sock)

    # An oversized body: 413 from Nginx before any byte reaches the app.
    big = 11 * 1024 * 1024
    answer = _raw(
        node,
        f"POST /db HTTP/1.1\r\nHost: {DOMAIN}\r\nContent-Length: {big}\r\n"
        "Connection: close\r\n\r\n".encode()
        + b"x" * 65536,
        timeout=10,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # An unknown Host: the connection is closed without an answer (Nginx 444).
    assert _raw(node, b"GET / HTTP/1.1\r\nHost: scanner.invalid\r\n\r\n") == b""
    # No Host at all in HTTP/1.1: 400.
    assert _raw(node, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 400")
    # Bad parameters reach the app and get 400, not 500.
    assert _get(node, "/io?ms=999999")[0] == 400
    assert _get(node, "/io?ms=-1")[0] == 400
    assert _get(node, "/db?id=x")[0] == 400
    # Others are served while the slow clients hold their sockets.
    report = _load(node, 500, 3, lambda n: ("GET", "/io?ms=50"))
    assert not report.errors and len(report.outcomes) > 1000, report.summary()

    # Nginx drops a client that has not finished its headers within the rendered
    # client_header_timeout (408, connection closed), well before its 60 s default.
    deadline = render.NODE.client_header_timeout_s + 10
    for sock in slow:
        sock.settimeout(deadline)
    started = time.monotonic()
    for sock in slow:
        with sock:
            try:
                leftover = sock.recv(65536)
            except ConnectionResetError:
                leftover = b""
            assert leftover in (b"",) or leftover.startswith(b"HTTP/1.1 408"), leftover[:100]
    assert time.monotonic() - started < deadline
    assert _get(node, "/healthz") == (200, "ok\n")
