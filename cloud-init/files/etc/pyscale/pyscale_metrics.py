"""Application metrics for Prometheus, one set for all of Gunicorn's workers.

Each worker counts its own requests into files under PROMETHEUS_MULTIPROC_DIR (prometheus
client's multiprocess mode); the arbiter serves the sum of them on the node's private
address, at a port Nginx does not proxy and the firewall opens only to the private
network. gunicorn.conf.py wires it: `reset` when the arbiter starts, `serve` once it is
ready, `instrument` (WSGI) or `instrument_asgi` (app.interface: asgi) around whatever app
each worker loaded (the demo app or the stack's own: no change to the app), `worker_exited`
for every worker that goes.

Series, by `route` (the path when the app lists it in a module-level METRICS_ROUTES, else
"other", so that paths cannot make series without bound):
    pyscale_http_requests_total{route,method,status}
    pyscale_http_request_errors_total{route}        5xx answers and exceptions
    pyscale_http_request_duration_seconds{route}    until the response's last byte
    pyscale_http_requests_in_flight                 summed over live workers
Shipped by cloud-init to /etc/pyscale/ (on Gunicorn's pythonpath).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, MutableMapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

OTHER = "other"
# From 5 ms (a cache hit) to a minute (the demo's longest /io wait).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _Metrics:
    """The series, made in a worker only: in multiprocess mode a metric opens its process's
    file when made, and the arbiter (which serves them) must not count as a worker."""

    def __init__(self) -> None:
        self.requests = Counter(
            "pyscale_http_requests", "Requests answered.", ["route", "method", "status"]
        )
        self.errors = Counter(
            "pyscale_http_request_errors", "Requests answered 5xx or failed.", ["route"]
        )
        self.latency = Histogram(
            "pyscale_http_request_duration_seconds",
            "From the request reaching the app to its response's last byte.",
            ["route"],
            buckets=BUCKETS,
        )
        self.in_flight = Gauge(
            "pyscale_http_requests_in_flight",
            "Requests the app is handling.",
            multiprocess_mode="livesum",
        )

    def start(self) -> float:
        """A request reached the app: in flight from now (the returned start time)."""
        self.in_flight.inc()
        return time.perf_counter()

    def done(self, started: float, route: str, method: str, status: str) -> None:
        """The request's last byte went out (or it failed): count and time it."""
        self.in_flight.dec()
        self.latency.labels(route).observe(time.perf_counter() - started)
        self.requests.labels(route, method, status).inc()
        if status.startswith("5"):
            self.errors.labels(route).inc()


def reset(directory: str) -> None:
    """An empty metrics directory: a restart must not add the last run's counts."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, mode=0o750)


def serve(address: str, port: int) -> None:
    """Serve every worker's metrics, summed, from a thread of the arbiter."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=address, registry=registry)


def worker_exited(pid: int) -> None:
    """Drop a gone worker's in-flight gauge (its counters stay in the sums)."""
    multiprocess.mark_process_dead(pid)


class _Body:
    """The app's response body, timed until the server closes it (the last byte sent)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body, self._done = body, done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def instrument(app: Callable[..., Any], routes: Collection[str]) -> Callable[..., Any]:
    """`app`, counting and timing every request by route (called once per worker)."""
    metrics = _Metrics()

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        route = path if path in routes else OTHER
        method = environ.get("REQUEST_METHOD", "")
        status = ["500"]  # until the app answers: an exception is a 500

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = line[:3]
            return start_response(line, headers, exc_info)

        started = metrics.start()

        def done() -> None:
            metrics.done(started, route, method, status[0])

        try:
            return _Body(app(environ, start), done)
        except BaseException:
            done()
            raise

    return counted


AsgiMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[AsgiMessage]]
Send = Callable[[AsgiMessage], Awaitable[None]]
AsgiApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]


def instrument_asgi(app: AsgiApp, routes: Collection[str]) -> AsgiApp:
    """The ASGI `app`, counting and timing every HTTP request by route, as `instrument`
    does for WSGI: the same series, so dashboards and alerts do not depend on the interface.
    Lifespan and websocket scopes pass through uncounted."""
    metrics = _Metrics()

    async def counted(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in routes else OTHER
        status = ["500"]  # until the app answers: an exception is a 500

        async def sent(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                status[0] = str(message["status"])
            await send(message)

        started = metrics.start()
        try:
            await app(scope, receive, sent)
        finally:
            metrics.done(started, route, scope.get("method", ""), status[0])

    return counted
