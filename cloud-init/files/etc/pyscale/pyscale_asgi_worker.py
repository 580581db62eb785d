"""pyscale's Gunicorn worker for ASGI apps (app.interface: asgi): uvicorn, holding the plan's
per-worker concurrency.

Why uvicorn through `uvicorn-worker` and not Gunicorn's native `asgi` worker (27.0.1, the
version the node lock pins): the native worker counts its connections but never refuses one
(`worker_connections` is read and not enforced, gunicorn/workers/gasgi.py), and it parses
HTTP in Python. uvicorn parses with httptools (C) on uvloop (libuv). `uvicorn-worker` passes
no concurrency limit from Gunicorn's settings; this class adds the plan's.

The limit: at most `worker_connections` requests in the app at once per worker; the next one
is answered 503 (Retry-After: 1, Connection: close) at once instead of letting the event
loop take on work it cannot finish in time (tests/render/test_asgi_worker.py overloads one
worker and counts). It counts requests, not connections: uvicorn's own `limit_concurrency`
also counts idle keep-alive connections, and Nginx caches up to the plan's upstream
keepalive of them per Nginx worker, so a worker holding another Nginx worker's idle
connections refused requests it had room for (bench/RESULTS.md, "ASGI and gevent": 503s at
1,000 ms with half the node's slots in use). `Connection: close` on the refusal makes Nginx
drop that connection rather than cache it on the busy worker. uvicorn's connection limit
stays as the descriptor guard: the process's descriptor limit (LimitNOFILE, from the plan)
less DESCRIPTOR_MARGIN for the app's pools, logs and modules.

Also set from Gunicorn's own settings (gunicorn.conf.py, rendered from the plan):

- `limit_max_requests` from the worker's `max_requests` as set after fork, so the staggered
  recycling of gunicorn.conf.py's `post_fork` applies (`uvicorn-worker` reads it before).
- `timeout_graceful_shutdown`: on SIGTERM in-flight requests get Gunicorn's graceful_timeout
  less LIFESPAN_SHUTDOWN_S, and the app's lifespan shutdown (closing its pools) the rest,
  before Gunicorn's SIGKILL.
- `forwarded_allow_ips` "*" when every listener is a unix socket, as on a node: Gunicorn
  trusts a unix-socket peer's X-Forwarded-Proto and -For (the socket is 0770
  pyscale:www-data, so that peer is Nginx), but uvicorn sees no address there and would
  trust none, and an app behind Nginx's TLS would build http:// URLs. Over TCP (a container)
  Gunicorn's forwarded_allow_ips applies as it is.
- SIGQUIT, Gunicorn's quick shutdown, stops the worker at once. `uvicorn-worker` 0.4.0 maps it
  to Gunicorn's `handle_exit`, which only clears `alive`, a flag uvicorn never reads: the
  worker went on serving until the arbiter's SIGKILL, graceful_timeout later.
- A graceful stop (SIGTERM, SIGHUP's reload, max_requests) does not close idle keep-alive
  connections under Nginx: uvicorn closes them at once, and a request Nginx was writing to
  one at that moment failed as 502 (tests/node/test_node.py, reloads under load: 1 of
  31,984). The next request on one is answered with `Connection: close`, as Gunicorn's own
  workers do; Nginx closes the rest (its upstream keepalive_timeout), within
  `timeout_graceful_shutdown`.
- `lifespan` "auto": an app that handles lifespan events gets startup and shutdown (a
  startup that fails stops the worker); one that does not is served without them.

Gunicorn's request-line and header-size limits do not apply here (uvicorn has none); Nginx's
`large_client_header_buffers` bounds them before a request reaches the worker.

Shipped by cloud-init to /etc/pyscale/ and named in gunicorn.conf.py.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter
from gunicorn.sock import UnixSocket
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

# Seconds of Gunicorn's graceful_timeout kept for the app's lifespan shutdown.
LIFESPAN_SHUTDOWN_S = 5
# Descriptors a worker keeps for other than client connections (the plan's
# GUNICORN_FD_MARGIN): listeners, logs, the app's database and cache pools, modules.
DESCRIPTOR_MARGIN = 1024

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

_REFUSAL = b"server busy: this worker holds its limit of requests; retry\n"
_REFUSAL_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_REFUSAL)).encode()),
    (b"retry-after", b"1"),
    (b"connection", b"close"),
]


class _Protocol(HttpToolsProtocol):
    """uvicorn's httptools connection, stopping without closing an idle one under Nginx."""

    _stopping = False

    def shutdown(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self._stopping = True  # its next answer closes it (on_headers_complete)
        else:
            super().shutdown()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self._stopping and self.cycle is not None:
            self.cycle.keep_alive = False


def limit_requests(app: App, limit: int) -> App:
    """`app`, answering 503 to an HTTP request that arrives while `limit` are in it."""
    in_flight = 0

    async def limited(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if in_flight >= limit:
            await send({"type": "http.response.start", "status": 503, "headers": _REFUSAL_HEADERS})
            await send({"type": "http.response.body", "body": _REFUSAL})
            return
        in_flight += 1
        try:
            await app(scope, receive, send)
        finally:
            in_flight -= 1

    return limited


class Worker(UvicornWorker):
    """uvicorn with httptools (`_Protocol`) and uvloop, and the plan's limits."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": _Protocol,
        "lifespan": "auto",
        # No access log from the worker: Nginx logs each request once (app.accessLog).
        "access_log": False,
        # uvicorn's own Server and Date headers: Nginx adds what the client sees.
        "server_header": False,
        "date_header": False,
    }

    def load_wsgi(self) -> None:
        # Before post_worker_init, which wraps the app metrics around this: refusals count.
        super().load_wsgi()
        self.wsgi = limit_requests(self.wsgi, self.cfg.worker_connections)

    def init_process(self) -> None:
        config = self.config
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY:
            config.limit_concurrency = max(
                self.cfg.worker_connections + 1, soft - DESCRIPTOR_MARGIN
            )
        config.limit_max_requests = self.max_requests
        config.timeout_graceful_shutdown = max(1, self.cfg.graceful_timeout - LIFESPAN_SHUTDOWN_S)
        if all(isinstance(sock, UnixSocket) for sock in self.sockets):
            config.forwarded_allow_ips = "*"
        if self.cfg.settings["accesslog"].value is not None:
            config.access_log = True  # app.accessLog: both
        super().init_process()

    async def _serve(self) -> None:
        self.config.app = self.wsgi
        server = Server(config=self.config)
        asyncio.get_running_loop().add_signal_handler(signal.SIGQUIT, self._quit, server)
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    def _quit(self, server: Server) -> None:
        """Quick shutdown: stop without waiting for in-flight requests or the lifespan."""
        self.alive = False
        server.should_exit = server.force_exit = True
