"""The app metrics every node serves (cloud-init/files/etc/pyscale/pyscale_metrics.py) under
real Gunicorn with the node's rendered config and worker, WSGI and ASGI: the requests of all workers
summed on one port, by the routes the app lists (any other path is "other"), latency to the
last byte, 5xx and exceptions counted as errors, in-flight requests summed over the live
workers only (a killed worker's requests leave the gauge), and a restart starting from an
empty directory."""

from __future__ import annotations

import os
import signal
import threading
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pyscale.localnode.commands import wait_until
from tests.ports import free_port
from tests.render.gunicorn_run import children, gunicorn

APP = """
import time
METRICS_ROUTES = {"/", "/slow", "/boom"}
def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/slow":
        time.sleep(float(environ["QUERY_STRING"] or "0.2"))
    if path == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""
# The same app for app.interface: asgi (pyscale_metrics.instrument_asgi around it).
ASGI_APP = """
import asyncio
METRICS_ROUTES = {"/", "/slow", "/boom"}
async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return  # lifespan auto: an app without it is served anyway
    path = scope["path"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/slow":
        await asyncio.sleep(float(scope["query_string"] or b"0.2"))
    status, body = (404, b"no") if path == "/missing" else (200, b"ok")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"""
APPS = {"wsgi": APP, "asgi": ASGI_APP}
WORKERS = 2


def samples(port: int) -> dict[tuple[str, frozenset], float]:
    """Every sample the arbiter serves: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def hold(port: int, path: str) -> None:
    """A request whose worker the test kills: its connection is reset, as expected."""
    try:
        get(port, path)
    except OSError:
        return


@pytest.mark.parametrize("interface", list(APPS))
def test_all_workers_are_counted_by_route_with_errors_and_latency(
    tmp_path: Path, interface: str
) -> None:
    port, metrics = free_port(), free_port()
    with gunicorn(tmp_path, f"127.0.0.1:{port}", APPS[interface], interface=interface,
                  extra={"metrics_port": str(metrics)}, workers=WORKERS):  # fmt: skip
        statuses = [get(port, path) for path in ["/"] * 40 + ["/missing", "/boom", "/slow"]]
        assert statuses[-3:] == [404, 500, 200]
        found = samples(metrics)
    ok = value(found, "pyscale_http_requests_total", route="/", method="GET", status="200")
    assert ok == 40, "every worker's requests, summed"
    # A path the app does not list is "other"; an exception is a 500 and an error.
    assert value(found, "pyscale_http_requests_total", route="other", method="GET",
                 status="404") == 1  # fmt: skip
    assert value(found, "pyscale_http_request_errors_total", route="/boom") == 1
    assert value(found, "pyscale_http_request_errors_total", route="/") == 0
    # /slow took its 0.2 s: in the 0.25 s bucket, not the 0.1 s one.
    slow = {"route": "/slow"}
    assert value(found, "pyscale_http_request_duration_seconds_bucket", le="0.25", **slow) == 1
    assert value(found, "pyscale_http_request_duration_seconds_bucket", le="0.1", **slow) == 0
    assert value(found, "pyscale_http_requests_in_flight") == 0


def test_in_flight_counts_live_workers_only_and_a_restart_starts_empty(tmp_path: Path) -> None:
    port, metrics = free_port(), free_port()
    held = 6
    with gunicorn(tmp_path, f"127.0.0.1:{port}", APP, extra={"metrics_port": str(metrics)},
                  workers=WORKERS) as server:  # fmt: skip
        threads = [threading.Thread(target=hold, args=(port, "/slow?30"), daemon=True)
                   for _ in range(held)]  # fmt: skip
        for thread in threads:
            thread.start()
        wait_until(lambda: value(samples(metrics), "pyscale_http_requests_in_flight") == held,
                   "the held requests in the gauge", timeout=10)  # fmt: skip
        # Every worker killed: their requests are gone, and so is their part of the gauge.
        for pid in children(server.pid):
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: value(samples(metrics), "pyscale_http_requests_in_flight") == 0,
                   "the dead workers' requests to leave the gauge", timeout=20)  # fmt: skip
        assert get(port, "/") == 200
    # A new arbiter on the same directory: the last run's counts are not added.
    with gunicorn(tmp_path / "again", f"127.0.0.1:{port}", APP,
                  extra={"metrics_port": str(metrics),
                         "metrics_dir": repr(str(tmp_path / "metrics"))},
                  workers=WORKERS):  # fmt: skip
        found = samples(metrics)
        assert value(found, "pyscale_http_requests_total", route="/", method="GET",
                     status="200") == 0  # fmt: skip
