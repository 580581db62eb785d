"""The health gate (pyscale/rollout/gate.py) and the clouds' side of it: a node passes only
after enough healthy answers in a row, times out naming what the load balancer last said,
ignores a node that flaps; the DigitalOcean and OVHcloud clients are driven against local
HTTP servers that answer as the APIs do, and the gate's provider (components/gate.py) gates
and drains exactly the nodes it should."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from components.gate import HealthGate, HealthGateProvider, batch_dependencies
from pyscale import clouds
from pyscale.clouds import http
from pyscale.clouds.digitalocean import rollout as do_rollout
from pyscale.clouds.ovh import rollout as ovh_rollout
from pyscale.rollout import GateTimeout, ProbeError, wait_until_healthy
from pyscale.rollout.plan import GATE_TYPE


class FakeClock:
    """Time that moves only when the gate sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def scripted(answers: list[bool | None]) -> Callable[[], tuple[bool | None, str]]:
    """A probe that gives `answers` in turn, then the last one for ever."""
    state = iter(answers)
    last: list[bool | None] = [None]

    def probe() -> tuple[bool | None, str]:
        last[0] = next(state, last[0])
        return last[0], f"answer {last[0]}"

    return probe


def gate(probe: Callable, timeout_s: float = 60) -> list:
    clock = FakeClock()
    return wait_until_healthy(
        "node-1", probe, timeout_s=timeout_s, interval_s=5, in_a_row=3,
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip


def test_passes_after_three_healthy_answers_in_a_row() -> None:
    seen = gate(scripted([None, False, True, True, True]))
    assert [o.healthy for o in seen] == [None, False, True, True, True]
    assert seen[-1].at_s == 20


def test_times_out_on_a_node_that_never_becomes_healthy() -> None:
    with pytest.raises(GateTimeout) as error:
        gate(scripted([False]), timeout_s=30)
    message = str(error.value)
    assert "node-1 not healthy behind the load balancer within 30 s" in message
    assert "last: answer False" in message and "left in place and serving" in message
    assert len(error.value.seen) == 7  # at 0, 5, ... 30 s


def test_a_flapping_node_never_passes() -> None:
    with pytest.raises(GateTimeout, match=r"flap"):
        gate(scripted([True, True, False] * 10), timeout_s=60)


def test_transient_errors_are_not_yet_and_fatal_ones_stop_at_once() -> None:
    calls = iter([RuntimeError("timeout"), True, True, True])

    def flaky() -> tuple[bool | None, str]:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item, "ok"

    seen = gate(flaky)
    assert seen[0].healthy is None and "API error: timeout" in seen[0].detail

    def fatal() -> tuple[bool | None, str]:
        raise ProbeError("401 unauthorized")

    with pytest.raises(ProbeError, match="401"):
        gate(fatal)


# --- the clouds' APIs, on loopback --------------------------------------------------


class Api:
    """A loopback HTTP server whose answers a test sets per (method, path)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[dict, dict], tuple[int, Any]]] = {}
        self.requests: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                seen = {"method": self.command, "path": url.path, "query": parse_qs(url.query),
                        "headers": dict(self.headers), "body": body}  # fmt: skip
                api.requests.append(seen)
                route = api.routes.get((self.command, url.path))
                status, answer = route(seen, body) if route else (404, {"id": "not_found"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def api() -> Iterator[Api]:
    server = Api()
    yield server
    server.server.shutdown()


def matrix(*series: tuple[dict, str]) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[1700000000, "0"], [1700000060, value]]}
        for labels, value in series
    ]}}  # fmt: skip


def test_digitalocean_health_reads_the_load_balancers_metric(api: Api) -> None:
    answer = matrix(({"lb_id": "lb", "droplet_id": "11"}, "100"),
                    ({"lb_id": "lb", "droplet_id": "12"}, "0"))  # fmt: skip
    api.routes[("GET", do_rollout.HEALTH_PATH)] = lambda *_: (200, answer)
    nodes = do_rollout.node_api(
        {}, {"DIGITALOCEAN_TOKEN": "t", "PYSCALE_DIGITALOCEAN_API": api.url}
    )
    target = {"load_balancer_id": "lb", "node_name": "n"}
    assert nodes.probe(target, "11")()[0] is True
    assert nodes.probe(target, "12")()[0] is False
    assert nodes.probe(target, "13")()[0] is None  # not behind the balancer yet
    request = api.requests[0]
    assert request["headers"]["Authorization"] == "Bearer t"
    assert request["query"]["lb_id"] == ["lb"]
    assert int(request["query"]["end"][0]) - int(request["query"]["start"][0]) == 300


def test_digitalocean_stop_shuts_down_and_waits_for_off(api: Api) -> None:
    status = iter(["active", "off"])
    api.routes[("POST", "/v2/droplets/11/actions")] = lambda *_: (201, {"action": {}})
    api.routes[("GET", "/v2/droplets/11")] = lambda *_: (200, {"droplet": {"status": next(status)}})
    nodes = do_rollout.DigitalOceanNodes("t", api.url)
    assert nodes.stop("11", 30) == "droplet 11 drained and off"
    assert api.requests[0]["body"] == {"type": "shutdown"}
    assert nodes.stop("99", 30) == "droplet 99 already gone"


def test_the_token_goes_to_loopback_or_to_digitalocean_only() -> None:
    with pytest.raises(ProbeError, match="only a loopback URL"):
        do_rollout.node_api({}, {"DIGITALOCEAN_TOKEN": "t", "PYSCALE_DIGITALOCEAN_API":
                                 "https://api.example.com"})  # fmt: skip
    with pytest.raises(ProbeError, match="DIGITALOCEAN_TOKEN"):
        do_rollout.node_api({}, {})


def test_ovh_health_wants_every_pool_member_online_with_signed_requests(api: Api) -> None:
    base = "/cloud/project/p/region/GRA11/loadbalancing/pool"
    states = {"m1": "ONLINE", "m2": "NO_MONITOR"}
    for member, state in states.items():
        api.routes[("GET", f"{base}/pool/member/{member}")] = lambda *_, s=state: (
            200,
            {"operatingStatus": s},
        )
    environ = {"OVH_APPLICATION_KEY": "ak", "OVH_APPLICATION_SECRET": "as",
               "OVH_CONSUMER_KEY": "ck", "PYSCALE_OVH_API": api.url}  # fmt: skip
    target = {"service_name": "p", "region": "GRA11",
              "members": [{"pool_id": "pool", "id": "m1"}]}  # fmt: skip
    nodes = ovh_rollout.node_api(target, environ)
    assert nodes.probe(target, "i-1")() == (True, "instance i-1 pool members ONLINE")
    both = target | {"members": [{"pool_id": "pool", "id": "m1"}, {"pool_id": "pool", "id": "m2"}]}
    assert nodes.probe(both, "i-1")()[0] is False
    missing = target | {"members": [{"pool_id": "pool", "id": "m3"}]}
    assert nodes.probe(missing, "i-1")()[0] is None
    headers = api.requests[0]["headers"]
    raw = f"as+ck+GET+{api.url}{base}/pool/member/m1++{headers['X-Ovh-Timestamp']}"
    assert headers["X-Ovh-Signature"] == "$1$" + hashlib.sha1(raw.encode()).hexdigest()
    assert headers["X-Ovh-Application"] == "ak" and headers["X-Ovh-Consumer"] == "ck"


def test_ovh_refuses_missing_credentials_and_unknown_endpoints() -> None:
    target = {"service_name": "p", "region": "GRA11", "members": []}
    with pytest.raises(ProbeError, match="OVH_APPLICATION_KEY"):
        ovh_rollout.node_api(target, {})
    creds = {"OVH_APPLICATION_KEY": "a", "OVH_APPLICATION_SECRET": "b", "OVH_CONSUMER_KEY": "c"}
    with pytest.raises(ProbeError, match="OVH_ENDPOINT = 'ovh-xx'"):
        ovh_rollout.node_api(target, creds | {"OVH_ENDPOINT": "ovh-xx"})


def test_api_errors_are_transient_or_fatal(api: Api) -> None:
    api.routes[("GET", "/busy")] = lambda *_: (503, {"message": "busy"})
    api.routes[("GET", "/denied")] = lambda *_: (401, {"message": "denied"})
    with pytest.raises(http.ApiError):
        http.request("GET", api.url + "/busy", {})
    with pytest.raises(ProbeError, match="401"):
        http.request("GET", api.url + "/denied", {})


# --- the gate's provider ------------------------------------------------------------


class Cloud:
    """A cloud whose load balancer finds `healthy` nodes healthy; records stops."""

    def __init__(self, healthy: set[str]) -> None:
        self.healthy, self.stopped = healthy, []

    def probe(self, _target: dict, node_id: str) -> Callable:
        return lambda: (node_id in self.healthy, f"{node_id}")

    def stop(self, node_id: str, within_s: int) -> str:
        self.stopped.append((node_id, within_s))
        return f"{node_id} off"


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Cloud:
    """DigitalOcean, with its API replaced by a Cloud whose "new" node is healthy."""
    fake = Cloud({"new"})
    real = clouds.get("digitalocean")
    stand_in = dataclasses.replace(real, node_api=lambda *_: fake)
    monkeypatch.setattr(clouds, "get", lambda name: stand_in if name == real.name else real)
    return fake


def props(node: str, timeout_s: float = 2) -> dict:
    return {"cloud": "digitalocean", "node_name": "n-1", "node_id": node,
            "target": {"load_balancer_id": "lb"}, "timeout_s": timeout_s,
            "interval_s": 0.01, "in_a_row": 3, "drain_s": 41}  # fmt: skip


def test_provider_drains_the_old_node_only_after_the_new_one_passed(cloud: Cloud) -> None:
    provider = HealthGateProvider()
    diff = provider.diff("g", props("old"), props("new"))
    assert diff.changes and diff.replaces == []  # an update, never a replacement
    result = provider.update("g", props("old"), props("new"))
    assert cloud.stopped == [("old", 41 + 30)]
    assert result.outs["node_id"] == "new" and result.outs["drained"] == "old off"


def test_provider_leaves_the_old_node_when_the_new_one_never_passes(cloud: Cloud) -> None:
    with pytest.raises(GateTimeout):
        HealthGateProvider().update("g", props("old"), props("broken", timeout_s=0.05))
    assert cloud.stopped == []


def test_provider_records_a_change_without_a_new_node_in_place(cloud: Cloud) -> None:
    changed = props("new") | {"timeout_s": 600}
    assert HealthGateProvider().diff("g", props("new"), changed).changes
    HealthGateProvider().update("g", props("new"), changed)
    assert cloud.stopped == []
    assert not HealthGateProvider().diff("g", props("new"), props("new")).changes


def test_gate_type_is_what_the_offline_mocks_answer() -> None:
    assert f"pulumi-python:{HealthGate._resource_type_name}" == GATE_TYPE


@pytest.mark.parametrize(
    ("index", "batch", "waits_for"),
    [(0, 1, []), (1, 1, [0]), (3, 1, [2]), (0, 2, []), (1, 2, []), (2, 2, [0, 1]), (5, 2, [2, 3])],
)
def test_each_batch_waits_for_the_gates_of_the_batch_before(
    index: int, batch: int, waits_for: list[int]
) -> None:
    gates = list(range(index))  # stand-ins for the gates created so far
    assert batch_dependencies(gates, index, batch) == waits_for  # type: ignore[arg-type]
