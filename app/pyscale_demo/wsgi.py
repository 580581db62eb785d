"""The demo WSGI app a pyscale node serves when the stack configures no app of its own.

It exercises every link the capacity plan sizes, one endpoint each:

    GET  /healthz     200 "ok" with no dependency: the load balancer's check must not fail
                      a node because the shared database is slow.
    GET  /            a greeting.
    GET  /db          a read from this worker's read-replica pool (the primary when the
                      stack has no replica); says which server answered. `?id=N` also
                      returns row N written by POST /db, to watch replication.
    POST /db          a write to the primary; returns the new row's id and the server.
    GET  /cache       INCR of a counter in Valkey/Redis.
    GET  /io?ms=N     waits N ms (0..60000, default 100) without touching any service: the
                      I/O-bound request of the source articles, driven by bench/.

The ASGI twin (asgi.py, app.interface: asgi) answers the same routes the same way; common.py
holds what the two share.

On a node every request is counted and timed by route for Prometheus (the node's
pyscale_metrics.py, around whatever app Gunicorn loads): METRICS_ROUTES names the routes.

Configuration comes from the environment (the node's 0600 /etc/pyscale/env): DATABASE_URL,
DATABASE_READ_URLS (comma-separated; empty means read from DATABASE_URL), REDIS_URL and the
per-process pool sizes the capacity plan chose, DB_POOL_SIZE, DB_READ_POOL_SIZE and
CACHE_POOL_SIZE. Pools are per worker process and created lazily after fork (a connection
inherited across fork would be shared by two processes), and bounded: a request waits at most
POOL_TIMEOUT_S for a connection and then gets 503, so the database never sees more than
nodes x workers x pool connections however many requests are in flight.

Under gevent every wait here is cooperative: `time.sleep` and sockets are monkey-patched,
and psycopg (pure Python, no C extension) waits through the patched `select` module. That is
why psycopg and redis are imported lazily, inside the worker, after Gunicorn's gevent worker
has patched the standard library.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from pyscale_demo.common import (
    CACHE_KEY,
    CREATE_LOCK_ID,
    CREATE_TABLE,
    DEFAULT_IO_MS,
    INSERT_ROW,
    LOCK_CREATE,
    MAX_IO_MS,
    METRICS_ROUTES,
    ROW_CREATED,
    TABLE,
    TABLE_EXISTS,
    WHO_ANSWERS,
    BadParam,
    Call,
    Config,
    ConfigError,
    PoolUse,
    Query,
    Result,
    Unavailable,
    database_errors,
    headers,
    int_param,
    json_result,
    read_body,
    resolve,
    text_result,
    write_body,
)
from pyscale_demo.common import healthz as _healthz
from pyscale_demo.common import hello as _hello

__all__ = ["MAX_IO_MS", "METRICS_ROUTES", "App", "Config", "ConfigError", "application"]

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class Pools:
    """This process's database and cache pools, created on first use after fork, and the
    count of their connections in use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()  # a gevent lock once threading is patched
        self._pid = 0
        self._pools: dict[str, Any] = {}
        self.use = PoolUse()

    @contextlib.contextmanager
    def connection(self, name: str) -> Iterator[Any]:
        """A connection from the `name` pool ("write" or "read"), counted while waited for
        and while in use."""
        pool = self.writer() if name == "write" else self.reader()
        if not self.config.read_urls:
            name = "write"  # reads go to the primary's pool: counted as that pool
        with self.use.waiting(name) as acquired, pool.connection() as conn, acquired():
            yield conn

    @contextlib.contextmanager
    def cache_command(self) -> Iterator[Any]:
        """The cache client, its connection counted in use for the command."""
        client = self.cache()
        with self.use.in_use("cache"):
            yield client

    def _get(self, name: str, create: Callable[[], Any]) -> Any:
        with self._lock:
            if self._pid != os.getpid():
                # Forked from a process that already had pools: their sockets belong to
                # the parent; start over without closing them under it.
                self._pid = os.getpid()
                self._pools = {}
            if name not in self._pools:
                self._pools[name] = create()
            return self._pools[name]

    def _pg_pool(self, url: str, size: int, name: str) -> Any:
        from psycopg_pool import ConnectionPool

        return ConnectionPool(
            url,
            min_size=0,
            max_size=size,
            timeout=self.config.pool_timeout_s,
            name=name,
            # PgBouncer in transaction mode hands each transaction to any server
            # connection: server-side prepared statements would not follow it.
            kwargs={"autocommit": True, "prepare_threshold": None},
            open=True,
        )

    def writer(self) -> Any:
        if not self.config.database_url:
            raise Unavailable("DATABASE_URL is not set")
        return self._get(
            "write",
            lambda: self._pg_pool(self.config.database_url, self.config.db_pool_size, "write"),
        )

    def reader(self) -> Any:
        urls = self.config.read_urls
        if not urls:
            return self.writer()
        # One replica per process, as the capacity plan counts them (readers per replica).
        url = urls[os.getpid() % len(urls)]
        return self._get("read", lambda: self._pg_pool(url, self.config.db_read_pool_size, "read"))

    def cache(self) -> Any:
        if not self.config.redis_url:
            raise Unavailable("REDIS_URL is not set")

        def create() -> Any:
            import redis

            pool = redis.BlockingConnectionPool.from_url(
                self.config.redis_url,
                max_connections=self.config.cache_pool_size,
                timeout=self.config.pool_timeout_s,
            )
            return redis.Redis(connection_pool=pool)

        return self._get("cache", create)


class App:
    """The WSGI callable: the shared route table, strict parameter checks, 503 on saturation."""

    def __init__(self, config: Config) -> None:
        self.pools = Pools(config)
        # The process that last made sure the table exists (once per worker, not per write).
        self._table_pid = 0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        result = self.dispatch(environ, path)
        status = result[0]
        start_response(f"{status.value} {status.phrase}", headers(result, path))
        return [result[2]]

    def dispatch(self, environ: Environ, path: str) -> Result:
        found = resolve(
            self, path, environ.get("REQUEST_METHOD", "GET"), environ.get("QUERY_STRING", "")
        )
        if not isinstance(found, Call):
            return found
        try:
            return found.handler(found.query)
        except BadParam as error:
            return text_result(HTTPStatus.BAD_REQUEST, str(error))
        except Unavailable as error:
            return text_result(HTTPStatus.SERVICE_UNAVAILABLE, f"unavailable: {error}")

    def healthz(self, query: Query) -> Result:
        return _healthz()

    def hello(self, query: Query) -> Result:
        return _hello()

    def io(self, query: Query) -> Result:
        ms = int_param(query, "ms", DEFAULT_IO_MS, 0, MAX_IO_MS)
        time.sleep(ms / 1000)  # cooperative under gevent: other requests run meanwhile
        return json_result(HTTPStatus.OK, {"waited_ms": ms})

    def db_read(self, query: Query) -> Result:
        row_id = int_param(query, "id", 0, 0, 2**63 - 1)
        with database_errors(), self.pools.connection("read") as conn:
            recovery, port = conn.execute(WHO_ANSWERS).fetchone()
            written = None
            if row_id and conn.execute(TABLE_EXISTS, (TABLE,)).fetchone()[0]:
                found = conn.execute(ROW_CREATED, (row_id,)).fetchone()
                written = found[0] if found else None
        return read_body(row_id, recovery, port, written)

    def db_write(self, query: Query) -> Result:
        with database_errors(), self.pools.connection("write") as conn:
            if self._table_pid != os.getpid():
                with conn.transaction():
                    conn.execute(LOCK_CREATE, (CREATE_LOCK_ID,))
                    conn.execute(CREATE_TABLE)
                self._table_pid = os.getpid()
            row_id, recovery, port = conn.execute(INSERT_ROW).fetchone()
        return write_body(row_id, recovery, port)

    def cache(self, query: Query) -> Result:
        import redis

        try:
            with self.pools.cache_command() as client:
                hits = client.incr(CACHE_KEY)
        except redis.exceptions.RedisError as error:
            raise Unavailable(f"cache: {error}") from error
        return json_result(HTTPStatus.OK, {"hits": hits})


application = App(Config.from_env(os.environ))
