"""The edge does not trust the client, under real Nginx: per-client limits and prod's
private demo routes, for clients behind the load balancer and for one that talks to the node
directly and forges the load balancer's headers.

A prod-shaped stack with small limits runs as its own node (no backing services: nothing
here reaches them). On the local node the host is the load balancer (its veth address is in
the node's private network), so a request from the host with X-Forwarded-For is a client
behind the balancer; an address on the namespace's loopback interface outside every private
network is a client on the internet.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from pyscale.localnode import NodeInfo
from tests.node.conftest import local_node, stack_file

DOMAIN = "edge.pyscale.example.com"
CONCURRENCY, RATE = 3, 5
EXEMPT = "198.51.100.128/25"
STACK_FILE = stack_file(
    environment="prod", nodeSize="s-2vcpu-4gb", nodeCount=2, domain=DOMAIN, tls="managed",
    edge={"clientConcurrency": CONCURRENCY, "clientRate": RATE, "exemptCidrs": [EXEMPT]},
)  # fmt: skip
# A client on the internet, talking to the node itself (TEST-NET-1, on the node's loopback).
DIRECT = "192.0.2.10"
HOLD_BYTES = 100  # a request body announced and never sent: Nginx holds the request


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeInfo]:
    with local_node(
        tmp_path_factory.mktemp("edge"), name="edge", services=False, stack_file=STACK_FILE
    ) as (_, info):
        subprocess.run(
            info.namespace.exec("ip", "addr", "add", f"{DIRECT}/32", "dev", "lo"), check=True
        )
        yield info


def _request(node: NodeInfo, method: str, path: str, client: str | None) -> bytes:
    headers = f"Host: {DOMAIN}\r\nConnection: close\r\n"
    if client:
        headers += f"X-Forwarded-For: {client}\r\n"
    body = "Content-Length: 0\r\n" if method == "POST" else ""
    return f"{method} {path} HTTP/1.1\r\n{headers}{body}\r\n".encode()


def status(node: NodeInfo, path: str, client: str | None = None, method: str = "GET") -> int:
    """One request from the host (the load balancer), for `client` when given."""
    with socket.create_connection((node.namespace.node_ip, 80), timeout=10) as sock:
        sock.sendall(_request(node, method, path, client))
        return int(sock.recv(64).split()[1])


def hold(node: NodeInfo, client: str) -> socket.socket:
    """A request from `client` that Nginx is processing until its body comes: it counts
    against the client's in-flight requests (limit_conn) for client_body_timeout."""
    sock = socket.create_connection((node.namespace.node_ip, 80), timeout=10)
    sock.sendall(
        f"POST / HTTP/1.1\r\nHost: {DOMAIN}\r\nX-Forwarded-For: {client}\r\n"
        f"Content-Length: {HOLD_BYTES}\r\n\r\n".encode()
    )
    return sock


DIRECT_CLIENT = """
import json, socket, sys
source, ip, host, forged, paths = *sys.argv[1:5], sys.argv[5:]
out = {}
for path in paths:
    with socket.create_connection((ip, 80), timeout=10, source_address=(source, 0)) as s:
        s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\nConnection: close\\r\\n"
                  f"X-Forwarded-For: {forged}\\r\\nX-Real-IP: {forged}\\r\\n\\r\\n".encode())
        out[path] = int(s.recv(64).split()[1])
print(json.dumps(out))
"""


def direct(node: NodeInfo, forged: str, *paths: str) -> dict[str, int]:
    """Requests from a client on the internet that claims, in the load balancer's headers,
    to be `forged`."""
    argv = node.namespace.exec(
        sys.executable, "-c", DIRECT_CLIENT, DIRECT, node.namespace.node_ip, DOMAIN, forged, *paths
    )
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


DEMO_ROUTES = ("/db", "/cache", "/io?ms=1")


def test_prod_demo_routes_answer_the_private_network_only(node: NodeInfo) -> None:
    # The load balancer (and the boot rehearsal, and the benchmark) reach them...
    assert status(node, "/io?ms=1") == 200
    # ...a client behind it does not, whatever it adds to the request.
    for path in DEMO_ROUTES:
        assert status(node, path, "198.51.100.7") == 404, path
    assert status(node, "/", "198.51.100.7") == 200
    assert status(node, "/healthz", "198.51.100.7") == 200
    # A client talking to the node directly cannot claim to be the VPC or loopback.
    for forged in (node.namespace.host_ip, "127.0.0.1"):
        assert direct(node, forged, *DEMO_ROUTES, "/") == {
            "/db": 404, "/cache": 404, "/io?ms=1": 404, "/": 200,
        }  # fmt: skip


def test_one_client_cannot_hold_more_than_its_share(node: NodeInfo) -> None:
    client, other = "198.51.100.20", "198.51.100.21"
    with ExitStack() as stack:
        for _ in range(CONCURRENCY):
            stack.enter_context(hold(node, client))
        time.sleep(0.2)  # Nginx has read each held request's header
        assert status(node, "/", client) == 429
        assert status(node, "/", other) == 200
        assert status(node, "/") == 200  # the load balancer's own requests are not counted
    # Once the held requests are gone, the client is served again.
    deadline = time.monotonic() + 5
    while status(node, "/", client) != 200:
        assert time.monotonic() < deadline, "the closed requests still count"
        time.sleep(0.1)


def test_the_exempt_networks_and_the_private_network_are_not_limited(node: NodeInfo) -> None:
    exempt = "198.51.100.200"
    with ExitStack() as stack:
        for _ in range(CONCURRENCY + 2):
            stack.enter_context(hold(node, exempt))
        time.sleep(0.2)
        assert status(node, "/", exempt) == 200
    statuses = [status(node, "/", exempt) for _ in range(4 * RATE)]
    assert statuses == [200] * (4 * RATE)


def test_a_client_over_its_rate_gets_429_after_its_burst(node: NodeInfo) -> None:
    client = "198.51.100.30"
    statuses = [status(node, "/", client) for _ in range(4 * RATE)]
    # The first request and a second's worth of burst pass at once; at RATE/s the rest of
    # a run this short (a few ms a request) is refused.
    assert statuses[: RATE + 1] == [200] * (RATE + 1), statuses
    assert statuses.count(429) >= 2 * RATE, statuses
    assert set(statuses) == {200, 429}
    assert status(node, "/", "198.51.100.31") == 200  # another client is not affected


def test_a_direct_client_is_limited_as_itself_whatever_it_forges(node: NodeInfo) -> None:
    # Each forged address would be a fresh client if Nginx believed it.
    forged = [f"203.0.113.{i}" for i in range(4 * RATE)]
    statuses = [direct(node, f, "/")["/"] for f in forged]
    assert statuses.count(429) >= 2 * RATE, statuses
