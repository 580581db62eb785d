"""The edge around the app, under real Nginx: what a visitor gets when the app is down, and
what of a request reaches the app.

Each node here runs the stack's rendered Nginx as usual, but its Gunicorn serves a small
echo app (echo_app.py) on the node's socket instead of the demo app: what reaches the app
is then in the answer. Two stacks: one behind a load balancer (prod's shape: the host is
the balancer, see edge_client), one single node without any (dev's shape).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest

from pyscale.localnode import (
    GUNICORN,
    LocalNode,
    NodeInfo,
    Supervisor,
    unix_healthz,
    wait_until,
)
from pyscale.render import NODE
from pyscale.render.cloudinit import ERROR_PAGE
from tests.node.conftest import local_node, stack_file
from tests.node.edge_client import (
    DIRECT,
    Answer,
    add_direct_address,
    direct_exchange,
    exchange,
    request,
)
from tests.unit.test_render_edge import SPOOFABLE

DOMAIN = "upstream.pyscale.example.com"
BEHIND_LB = stack_file(
    environment="prod", nodeSize="s-2vcpu-4gb", nodeCount=2, domain=DOMAIN, tls="managed"
)
SINGLE = stack_file(
    environment="dev", nodeSize="s-2vcpu-4gb", nodeCount=1, domain=DOMAIN, tls="off"
)
CLIENT = "198.51.100.60"  # a client behind the load balancer
ECHO = "echo"


def start_echo(local: LocalNode) -> None:
    """The echo app on Gunicorn's socket (the supervisor stops it with the node)."""
    sock = local.layout.socket
    Supervisor(local.state).start_ready(
        ECHO,
        [str(GUNICORN), "--bind", f"unix:{sock}", "--workers", "1",
         "--chdir", str(Path(__file__).parent), "echo_app:app"],
        ready=lambda: unix_healthz(sock),
        what="the echo app on the node's Gunicorn socket",
    )  # fmt: skip


def stop(local: LocalNode, name: str) -> None:
    Supervisor(local.state).stop(name, timeout=10)
    wait_until(lambda: not local.layout.socket.exists(), f"{name} to remove its socket", 10)


def echo_node(tmp: Path, name: str, stack: str) -> Iterator[tuple[LocalNode, NodeInfo]]:
    with local_node(tmp, name=name, services=False, stack_file=stack) as (local, info):
        add_direct_address(info)
        stop(local, "gunicorn")
        start_echo(local)
        yield local, info


@pytest.fixture(scope="module")
def lb_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalNode, NodeInfo]]:
    yield from echo_node(tmp_path_factory.mktemp("lb"), "edge-lb", BEHIND_LB)


@pytest.fixture(scope="module")
def single_node(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LocalNode, NodeInfo]]:
    yield from echo_node(tmp_path_factory.mktemp("single"), "edge-single", SINGLE)


def get(info: NodeInfo, path: str, *headers: tuple[str, str], method: str = "GET") -> Answer:
    """A request from the host: the load balancer's side (or, without one, the VPC)."""
    body = b"{}" if method == "POST" else b""
    if body:
        headers = (*headers, ("Content-Length", str(len(body))))
    return exchange(info, request(method, path, DOMAIN, *headers, body=body))


def seen(answer: Answer) -> dict:
    """What the echo app saw of the request."""
    assert answer.status == 200, answer
    return json.loads(answer.body)


# --- the app down ------------------------------------------------------------------------


def test_the_app_down_gets_the_error_page(lb_node: tuple[LocalNode, NodeInfo]) -> None:
    local, info = lb_node
    stop(local, ECHO)
    try:
        for method in ("GET", "POST"):
            answer = get(info, "/", ("X-Forwarded-Proto", "https"), method=method)
            assert answer.status == 502, method
            assert answer.header("Content-Type").startswith("text/html")
            assert answer.body == ERROR_PAGE.read_bytes()
            assert answer.header("Strict-Transport-Security") == f"max-age={NODE.hsts_max_age_s}"
            assert answer.header("X-Frame-Options") == "DENY"
            assert answer.header("X-Content-Type-Options") == "nosniff"
        # The page has no address of its own (an internal location: 404 from outside).
        outside = get(info, "/50x.html")
        assert outside.status == 404 and outside.body != ERROR_PAGE.read_bytes()
        # The load balancer's check: a plain 503 that takes the node out of the pool.
        health = get(info, "/healthz")
        assert (health.status, health.body) == (503, b"app not answering\n")
    finally:
        start_echo(local)
    assert get(info, "/healthz").status == 200


# --- what reaches the app ----------------------------------------------------------------


def forged_headers() -> list[tuple[str, str]]:
    return [(name, "evil.example.com") for name in SPOOFABLE]


def test_spoofable_forwarding_headers_never_reach_the_app(
    lb_node: tuple[LocalNode, NodeInfo],
) -> None:
    _, info = lb_node
    behind = seen(get(info, "/", ("X-Forwarded-For", CLIENT), ("X-Forwarded-Proto", "https"),
                      *forged_headers()))  # fmt: skip
    direct = seen(direct_exchange(info, request("GET", "/", DOMAIN, *forged_headers())))
    for view in (behind, direct):
        leaked = {name.lower() for name in SPOOFABLE} & set(view["headers"])
        assert not leaked, f"reached the app: {leaked}"
    # What the app is told instead, from Nginx's own view of the request.
    assert behind["headers"]["x-forwarded-for"] == CLIENT
    assert behind["headers"]["x-real-ip"] == CLIENT
    assert behind["headers"]["x-forwarded-proto"] == "https"
    assert behind["headers"]["host"] == DOMAIN
    assert behind["headers"]["x-request-id"]
    assert behind["scheme"] == "https"
    assert direct["headers"]["x-real-ip"] == DIRECT


def test_a_direct_client_cannot_choose_its_address_or_scheme(
    lb_node: tuple[LocalNode, NodeInfo],
) -> None:
    _, info = lb_node
    forged = [("X-Forwarded-For", "10.0.0.1"), ("X-Real-IP", "10.0.0.1"),
              ("X-Forwarded-Proto", "https")]  # fmt: skip
    view = seen(direct_exchange(info, request("GET", "/", DOMAIN, *forged)))
    assert view["headers"]["x-forwarded-for"] == DIRECT
    assert view["headers"]["x-real-ip"] == DIRECT
    assert view["headers"]["x-forwarded-proto"] == "http"
    assert view["scheme"] == "http"


def test_the_apps_own_security_headers_are_kept(lb_node: tuple[LocalNode, NodeInfo]) -> None:
    _, info = lb_node
    own = {
        "X-Frame-Options": "SAMEORIGIN",
        "Strict-Transport-Security": "max-age=60",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    query = "&".join(f"header={name}:{value}" for name, value in own.items())
    answer = get(info, f"/?type=text/html&{query}", ("X-Forwarded-Proto", "https"))
    assert answer.status == 200
    for name, value in own.items():
        assert answer.all(name) == [value], name  # once, the app's
    # An app page that sets none gets the edge's.
    page = get(info, "/?type=text/html;%20charset=utf-8", ("X-Forwarded-Proto", "https"))
    assert page.header("X-Frame-Options") == "DENY"
    assert page.header("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert page.header("Strict-Transport-Security") == f"max-age={NODE.hsts_max_age_s}"


def test_the_apps_answers_are_brotli_compressed(lb_node: tuple[LocalNode, NodeInfo]) -> None:
    _, info = lb_node
    answer = get(info, "/?pad=4000", ("Accept-Encoding", "br"))
    assert answer.status == 200
    assert answer.header("Content-Encoding") == "br"
    view = json.loads(brotli.decompress(answer.body))
    assert len(view["pad"]) >= 4000 - 8
    assert len(answer.body) < len(view["pad"])


# --- without a load balancer -------------------------------------------------------------


def test_without_a_load_balancer_the_vpc_cannot_forward_an_address(
    single_node: tuple[LocalNode, NodeInfo],
) -> None:
    """The host is in the node's private network (the VPC here); with no load balancer in
    front of the node nobody there may say who the client is, or that it used https."""
    _, info = single_node
    assert not info.plan.load_balancer.enabled
    answer = get(info, "/", ("X-Forwarded-For", CLIENT), ("X-Real-IP", CLIENT),
                 ("X-Forwarded-Proto", "https"))  # fmt: skip
    view = seen(answer)
    host = info.namespace.host_ip
    assert view["headers"]["x-forwarded-for"] == host
    assert view["headers"]["x-real-ip"] == host
    assert view["headers"]["x-forwarded-proto"] == "http"
    assert view["scheme"] == "http"
    assert answer.header("Strict-Transport-Security") is None
    assert answer.header("X-Content-Type-Options") == "nosniff"
