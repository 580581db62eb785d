"""pyscale's Gunicorn worker: gevent's own HTTP server, with Gunicorn's request handling kept.

Gunicorn's `gevent` worker parses every request with Gunicorn's pure-Python parser and
response writer; its `gevent_pywsgi` worker hands the connection to gevent's WSGI server
instead, which costs about a third less CPU per request (bench/RESULTS.md). But
`gevent_pywsgi` skips the parts of Gunicorn's request handling that pyscale relies on:

- `max_requests` is never counted, so workers are never recycled (and pyscale's staggered
  recycling, the `post_fork` hook in gunicorn.conf.py, does nothing);
- `secure_scheme_headers` never sets `wsgi.url_scheme`, so an app behind Nginx's TLS
  builds http:// URLs;
- a stopping worker keeps serving its keep-alive connections with no `Connection: close`,
  so Nginx keeps sending it requests until it is killed;
- `keepalive` (the idle timeout) and the request-line and header limits do not apply.

This worker restores those, with Gunicorn's own settings and semantics. It is shipped by
cloud-init to /etc/pyscale/ and named in gunicorn.conf.py; tests/render/test_worker.py
runs it under real Gunicorn.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gevent
from gunicorn.http.message import _ip_in_allow_list
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler, PyWSGIServer


class _RequestRefused(ValueError):
    """A request over one of Gunicorn's limits: gevent answers a ValueError with 400."""


class Handler(PyWSGIHandler):
    """One connection: counts requests for the worker and applies Gunicorn's settings."""

    server: Server

    def read_requestline(self) -> str:
        # Gunicorn's `keepalive`: an idle connection is closed after that many seconds
        # (an empty line ends the connection).
        with gevent.Timeout(self.server.worker.cfg.keepalive or None, False):
            return super().read_requestline()
        return ""

    def read_request(self, raw_requestline: str) -> bool:
        cfg = self.server.worker.cfg
        if cfg.limit_request_line and len(raw_requestline.rstrip()) > cfg.limit_request_line:
            raise _RequestRefused(f"request line longer than {cfg.limit_request_line} bytes")
        super().read_request(raw_requestline)
        if cfg.limit_request_fields and len(self.headers) > cfg.limit_request_fields:
            raise _RequestRefused(f"more than {cfg.limit_request_fields} header fields")
        limit = cfg.limit_request_field_size
        if limit and any(len(line) - 2 > limit for line in self.headers.headers):
            raise _RequestRefused(f"a header field longer than {limit} bytes")
        return True

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        if self.server.trusts(self.client_address):
            for header, secure_value in self.server.worker.cfg.secure_scheme_headers.items():
                value = self.headers.get(header)
                if value is not None:
                    env["wsgi.url_scheme"] = "https" if value == secure_value else "http"
        return env

    def handle_one_response(self) -> None:
        worker = self.server.worker
        worker.nr += 1
        if worker.nr >= worker.max_requests and worker.alive:
            worker.log.info("Autorestarting worker after current request.")
            worker.alive = False
        if not worker.alive or not worker.cfg.keepalive:
            # A worker on its way out answers this request and closes the connection,
            # telling the proxy so (Connection: close) instead of letting it queue more.
            # keepalive 0 turns keep-alive off, as in Gunicorn.
            self.close_connection = True
        super().handle_one_response()

    def start_response(self, status, headers, exc_info=None):
        if self.close_connection and not any(k.lower() == "connection" for k, _ in headers):
            headers = [*headers, ("Connection", "close")]
        return super().start_response(status, headers, exc_info)


class Server(PyWSGIServer):
    """gevent's WSGI server, knowing its Gunicorn worker."""

    def __init__(self, *args: Any, worker: Worker, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker = worker
        if worker.cfg.workers > 1:
            # One connection per accept wake-up, as Gunicorn's `gevent` worker does: the
            # first worker to wake must not take a whole burst of Nginx's connections.
            self.max_accept = 1

    def trusts(self, peer: object) -> bool:
        """Whether `peer` may set the scheme headers, decided by Gunicorn's own check: a
        unix-socket peer always may, a TCP peer only from forwarded_allow_ips. (The helper
        is Gunicorn-internal; the node lock pins Gunicorn, and tests/render/test_worker.py
        fails if it moves.)"""
        cfg = self.worker.cfg
        return not isinstance(peer, tuple) or _ip_in_allow_list(
            str(peer[0]), cfg.forwarded_allow_ips, cfg.forwarded_allow_networks()
        )


class Worker(GeventPyWSGIWorker):
    """Gunicorn's gevent_pywsgi worker with pyscale's Handler."""

    wsgi_handler = Handler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server_class = partial(Server, worker=self)
