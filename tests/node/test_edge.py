"""The edge does not trust the client, under real Nginx: per-client limits and prod's
private demo routes, for clients behind the load balancer and for one that talks to the node
directly and forges the load balancer's headers; compression, the security headers, and what
an audit of the edge found it refuses (smuggling, large bodies, slow clients, hidden files,
methods).

A prod-shaped stack with small limits runs as its own node (no backing services: nothing
here reaches them). On the local node the host is the load balancer (its veth address is in
the node's private network), so a request from the host with X-Forwarded-For is a client
behind the balancer; an address on the namespace's loopback interface outside every private
network is a client on the internet.
"""

from __future__ import annotations

import gzip
import json
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import brotli
import pytest

from pyscale.localnode import NodeInfo
from pyscale.render import NODE
from tests.node.conftest import local_node, stack_file
from tests.node.edge_client import (
    DIRECT,
    Answer,
    add_direct_address,
    direct_exchange,
    direct_exchanges,
    exchange,
    request,
)

DOMAIN = "edge.pyscale.example.com"
CONCURRENCY, RATE = 3, 5
EXEMPT = "198.51.100.128/25"
STACK_FILE = stack_file(
    environment="prod", nodeSize="s-2vcpu-4gb", nodeCount=2, domain=DOMAIN, tls="managed",
    edge={"clientConcurrency": CONCURRENCY, "clientRate": RATE, "exemptCidrs": [EXEMPT]},
)  # fmt: skip
HOLD_BYTES = 100  # a request body announced and never sent: Nginx holds the request


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeInfo]:
    with local_node(
        tmp_path_factory.mktemp("edge"), name="edge", services=False, stack_file=STACK_FILE
    ) as (_, info):
        add_direct_address(info)
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
    # Each forged address would be a fresh client if Nginx believed it. Sent back to back
    # from one process: the run must be shorter than the rate lets through.
    addresses = [f"203.0.113.{i}" for i in range(4 * RATE)]
    forged = [
        request("GET", "/", DOMAIN, ("X-Forwarded-For", a), ("X-Real-IP", a)) for a in addresses
    ]
    statuses = [answer.status for answer in direct_exchanges(node, forged)]
    assert statuses.count(429) >= 2 * RATE, statuses


# --- compression, headers, errors --------------------------------------------------------

CLIENT = "198.51.100.50"  # a client behind the load balancer
# Text that compresses, well over gzip_min_length (and brotli_min_length).
STYLE = "body { margin: 0; padding: 0 }\n" * 200


def get(node: NodeInfo, path: str, *headers: tuple[str, str], method: str = "GET") -> Answer:
    """One request from the load balancer's side."""
    return exchange(node, request(method, path, DOMAIN, *headers))


@pytest.fixture(scope="module")
def static_dir(node: NodeInfo) -> Path:
    """The node's /opt/pyscale/static/, which Nginx serves at /static/."""
    return Path(node.remapped["/opt/pyscale/"]) / "static"


def test_a_client_that_accepts_brotli_gets_brotli(node: NodeInfo, static_dir: Path) -> None:
    (static_dir / "site.css").write_text(STYLE)
    br = get(node, "/static/site.css", ("Accept-Encoding", "gzip, deflate, br"))
    assert br.status == 200
    assert br.header("Content-Encoding") == "br"
    assert brotli.decompress(br.body) == STYLE.encode()
    assert len(br.body) < len(STYLE)
    # Gzip for a client without br, as it is, the file itself for one without either.
    gz = get(node, "/static/site.css", ("Accept-Encoding", "gzip"))
    assert gz.header("Content-Encoding") == "gzip"
    assert gzip.decompress(gz.body) == STYLE.encode()
    plain = get(node, "/static/site.css")
    assert plain.header("Content-Encoding") is None and plain.body == STYLE.encode()


def test_a_pre_compressed_neighbour_is_sent_as_it_is(node: NodeInfo, static_dir: Path) -> None:
    script = "console.log('pyscale');\n" * 100
    packed = brotli.compress(script.encode(), quality=11)  # as a build step would write it
    (static_dir / "app.js").write_text(script)
    (static_dir / "app.js.br").write_bytes(packed)
    answer = get(node, "/static/app.js", ("Accept-Encoding", "br"))
    assert answer.header("Content-Encoding") == "br"
    assert answer.body == packed


def test_hsts_and_the_security_headers_behind_the_load_balancer(node: NodeInfo) -> None:
    https = get(node, "/", ("X-Forwarded-For", CLIENT), ("X-Forwarded-Proto", "https"))
    assert https.status == 200
    assert https.header("Strict-Transport-Security") == f"max-age={NODE.hsts_max_age_s}"
    assert https.header("X-Content-Type-Options") == "nosniff"
    # "/" answers text/plain: frame and referrer policies are for documents (h5bp).
    assert https.header("X-Frame-Options") is None
    # The balancer's plain-HTTP side: no HSTS over HTTP (RFC 6797 7.2), the rest as ever.
    plain = get(node, "/", ("X-Forwarded-For", CLIENT))
    assert plain.header("Strict-Transport-Security") is None
    assert plain.header("X-Content-Type-Options") == "nosniff"
    # A client talking to the node directly cannot claim https (its answer may be a 429:
    # the rate test above spent its budget; the headers are the same).
    forged = direct_exchange(node, request("GET", "/", DOMAIN, ("X-Forwarded-Proto", "https")))
    assert forged.header("X-Content-Type-Options") == "nosniff"
    assert forged.header("Strict-Transport-Security") is None


def test_nginxs_own_error_answers_carry_the_headers(node: NodeInfo) -> None:
    answer = get(node, "/.env", ("X-Forwarded-Proto", "https"))
    assert answer.status == 403
    assert answer.header("Content-Type").startswith("text/html")
    assert answer.header("Strict-Transport-Security") == f"max-age={NODE.hsts_max_age_s}"
    assert answer.header("X-Frame-Options") == "DENY"
    assert answer.header("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert answer.header("X-Content-Type-Options") == "nosniff"


def test_the_apps_own_503_passes_as_the_app_wrote_it(node: NodeInfo) -> None:
    """No data stores behind this node: the demo app answers /db 503 with Retry-After,
    which the error page must not replace (proxy_intercept_errors off)."""
    answer = get(node, "/db")
    assert answer.status == 503
    assert answer.header("Retry-After") == "1"
    assert not answer.header("Content-Type").startswith("text/html")
    assert b"Temporarily unavailable" not in answer.body


# --- what the audit found refused, kept refused ------------------------------------------


def test_request_smuggling_is_refused(node: NodeInfo) -> None:
    """A request whose length two parsers could read differently never reaches the app."""
    both = request(
        "POST", "/", DOMAIN, ("Content-Length", "5"), ("Transfer-Encoding", "chunked"),
        body=b"0\r\n\r\n",
    )  # fmt: skip
    assert exchange(node, both).status == 400
    twice = request("POST", "/", DOMAIN, ("Content-Length", "0"), ("Content-Length", "5"))
    assert exchange(node, twice).status == 400
    # The same request with one length reaches the app (whose 405 names what / allows):
    # the 400s are about the lengths.
    once = exchange(node, request("POST", "/", DOMAIN, ("Content-Length", "0")))
    assert once.status == 405 and once.header("Allow")


def size_bytes(size: str) -> int:
    """An Nginx size ("10m") in bytes."""
    units = {"k": 2**10, "m": 2**20, "g": 2**30}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def test_a_body_over_the_limit_is_refused_before_it_is_read(node: NodeInfo) -> None:
    limit = size_bytes(NODE.client_max_body_size)
    # Refused on its Content-Length: not one byte of the body is sent.
    over = request("POST", "/", DOMAIN, ("Content-Length", str(limit + 1)))
    assert exchange(node, over).status == 413
    within = exchange(node, request("POST", "/", DOMAIN, ("Content-Length", "2"), body=b"{}"))
    assert within.status == 405 and within.header("Allow")  # the app's answer


def test_a_slow_client_is_cut_off_at_the_header_timeout(node: NodeInfo) -> None:
    """A client trickling its headers a byte a second (slowloris) keeps sending, but Nginx's
    header timer is not reset by progress: the connection is closed, with no answer, once
    client_header_timeout has passed. The test gives it a few seconds more."""
    timeout = NODE.client_header_timeout_s
    ip = node.namespace.node_ip
    with socket.create_connection((ip, 80), timeout=timeout + 5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {DOMAIN}\r\nX-Slow: ".encode())
        received = None
        for _ in range(timeout + 4):
            try:
                sock.sendall(b"a")
                if select.select([sock], [], [], 1)[0]:
                    received = sock.recv(64)
                    break
            except (BrokenPipeError, ConnectionResetError):
                received = b""
                break
        assert received == b"", f"still open or answered after {timeout + 4} s: {received!r}"


def test_hidden_files_are_never_served(node: NodeInfo, static_dir: Path) -> None:
    (static_dir / ".env").write_text("SECRET=1\n")
    for path in ("/.env", "/.git/config", "/static/.env", "/static/../.htpasswd"):
        answer = get(node, path)
        assert answer.status in (403, 404), path
        assert b"SECRET" not in answer.body
    # /.well-known/ is not hidden: it reaches the app (which has no such route).
    assert get(node, "/.well-known/security.txt").status == 404


def test_trace_and_unknown_methods_are_refused(node: NodeInfo) -> None:
    assert get(node, "/", method="TRACE").status == 405  # Nginx refuses TRACE itself
    unknown = get(node, "/", method="PROPFIND")  # a method token: the app refuses it
    assert unknown.status == 405 and unknown.header("Allow")
    assert get(node, "/", method="get").status == 400  # not a method token at all
