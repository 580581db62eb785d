"""pyscale's Gunicorn worker for ASGI apps (app.interface: asgi): uvicorn, holding the plan's
per-worker concurrency.

Why uvicorn through `uvicorn-worker` and not Gunicorn's native `asgi` worker (27.0.1, the
version the node lock pins): the native worker counts its connections but never refuses one
(`worker_connections` is read and not enforced, gunicorn/workers/gasgi.py), and it parses
HTTP in Python. uvicorn parses with httptools (C) on uvloop (libuv), and has a real limit,
`limit_concurrency`, which `uvicorn-worker` does not pass from Gunicorn's settings. This class
passes it, so the capacity chain holds on this interface too: a worker serves at most
`worker_connections` requests at once, and answers the next one 503 at once instead of
letting its event loop take on work it cannot finish in time.

What it sets, from Gunicorn's own settings (gunicorn.conf.py, rendered from the plan):

- `limit_concurrency` = worker_connections + 1. uvicorn answers 503 when the connections *or*
  tasks it holds reach the limit, counting the connection of the request being decided, so
  this is what lets exactly worker_connections requests in flight
  (tests/render/test_asgi_worker.py overloads one worker and counts).
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
- `lifespan` "auto": an app that handles lifespan events gets startup and shutdown (a
  startup that fails stops the worker); one that does not is served without them.

Shipped by cloud-init to /etc/pyscale/ and named in gunicorn.conf.py.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter
from gunicorn.sock import UnixSocket
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker

# Seconds of Gunicorn's graceful_timeout kept for the app's lifespan shutdown.
LIFESPAN_SHUTDOWN_S = 5


class Worker(UvicornWorker):
    """uvicorn with httptools and uvloop, and the plan's limits."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "auto",
        # No access log from the worker: Nginx logs each request once (app.accessLog).
        "access_log": False,
        # uvicorn's own Server and Date headers: Nginx adds what the client sees.
        "server_header": False,
        "date_header": False,
    }

    def init_process(self) -> None:
        config = self.config
        config.limit_concurrency = self.cfg.worker_connections + 1
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
