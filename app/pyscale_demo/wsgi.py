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
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

# Bounds for GET /io: a request parameter must not be able to hold a greenlet for hours.
DEFAULT_IO_MS = 100
MAX_IO_MS = 60_000
# How long a request waits for a pooled connection before answering 503. Well under
# Gunicorn's worker timeout and Nginx's proxy_read_timeout (120 s), so the client gets the
# app's clear answer instead of a proxy timeout.
DEFAULT_POOL_TIMEOUT_S = 5.0
CACHE_KEY = "pyscale:demo:hits"
TABLE = "pyscale_demo_writes"
# Serialises the first CREATE TABLE across workers: concurrent CREATE TABLE IF NOT EXISTS
# can still collide on the catalog's unique index.
CREATE_LOCK_ID = 0x7079_7363

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class ConfigError(ValueError):
    """A bad environment variable: raised at import so a misconfigured worker never boots."""


def _pool_size(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < low:
        raise ConfigError(f"{name}={raw!r}: must be a whole number >= {low} (pool per process)")
    return int(raw)


@dataclass(frozen=True)
class Config:
    """What the environment asked for; empty URLs leave that endpoint answering 503."""

    database_url: str
    read_urls: tuple[str, ...]
    redis_url: str
    db_pool_size: int
    db_read_pool_size: int
    cache_pool_size: int
    pool_timeout_s: float

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        raw_timeout = env.get("POOL_TIMEOUT_S", "").strip()
        try:
            timeout = float(raw_timeout) if raw_timeout else DEFAULT_POOL_TIMEOUT_S
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 60:
            raise ConfigError(f"POOL_TIMEOUT_S={raw_timeout!r}: must be seconds, 0 < t <= 60")
        read_urls = tuple(
            url.strip() for url in env.get("DATABASE_READ_URLS", "").split(",") if url.strip()
        )
        db_pool = _pool_size(env, "DB_POOL_SIZE", 1)
        return cls(
            database_url=env.get("DATABASE_URL", "").strip(),
            read_urls=read_urls,
            redis_url=env.get("REDIS_URL", "").strip(),
            db_pool_size=db_pool,
            # The plan gives a read pool of 0 when the stack has no replica (reads then
            # share the write pool); with replicas a read pool needs a connection.
            db_read_pool_size=_pool_size(
                env, "DB_READ_POOL_SIZE", db_pool, low=1 if read_urls else 0
            ),
            cache_pool_size=_pool_size(env, "CACHE_POOL_SIZE", 1),
            pool_timeout_s=timeout,
        )


class Unavailable(Exception):
    """A dependency is missing, down or saturated: the request gets 503, the worker lives."""


@functools.cache
def _pool_gauges() -> tuple[Any, Any]:
    """How many of this process's pooled connections are in use, and how many requests wait
    for one, by pool (write, read, cache): summed over a node's live workers, they are what
    the plan's pool alerts compare with workers x pool size. Made once per process (a
    registry takes each name once), after fork: the app is loaded in each worker."""
    from prometheus_client import Gauge

    in_use = Gauge("pyscale_app_pool_in_use", "Pooled connections in use.", ["pool"],
                   multiprocess_mode="livesum")  # fmt: skip
    waiting = Gauge("pyscale_app_pool_waiting", "Requests waiting for a pooled connection.",
                    ["pool"], multiprocess_mode="livesum")  # fmt: skip
    return in_use, waiting


class Pools:
    """This process's database and cache pools, created on first use after fork, and the
    count of their connections in use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()  # a gevent lock once threading is patched
        self._pid = 0
        self._pools: dict[str, Any] = {}
        self._in_use, self._waiting = _pool_gauges()

    @contextlib.contextmanager
    def connection(self, name: str) -> Iterator[Any]:
        """A connection from the `name` pool ("write" or "read"), counted while waited for
        and while in use."""
        pool = self.writer() if name == "write" else self.reader()
        if not self.config.read_urls:
            name = "write"  # reads go to the primary's pool: counted as that pool
        acquired = False
        self._waiting.labels(name).inc()
        try:
            with pool.connection() as conn:
                acquired = True
                self._waiting.labels(name).dec()
                with self._in_use.labels(name).track_inprogress():
                    yield conn
        finally:
            if not acquired:  # the pool timed out or the database refused
                self._waiting.labels(name).dec()

    @contextlib.contextmanager
    def cache_command(self) -> Iterator[Any]:
        """The cache client, its connection counted in use for the command."""
        client = self.cache()
        with self._in_use.labels("cache").track_inprogress():
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


def _json(status: HTTPStatus, body: Mapping[str, Any]) -> tuple[HTTPStatus, str, bytes]:
    return status, "application/json", json.dumps(body, separators=(",", ":")).encode() + b"\n"


def _text(status: HTTPStatus, body: str) -> tuple[HTTPStatus, str, bytes]:
    return status, "text/plain; charset=utf-8", body.encode() + b"\n"


Result = tuple[HTTPStatus, str, bytes]


class App:
    """The WSGI callable: a route table, strict parameter checks, 503 on saturation."""

    def __init__(self, config: Config) -> None:
        self.pools = Pools(config)
        # The process that last made sure the table exists (once per worker, not per write).
        self._table_pid = 0
        self.routes: dict[str, dict[str, Callable[[dict[str, list[str]]], Result]]] = {
            "/healthz": {"GET": lambda q: _text(HTTPStatus.OK, "ok")},
            "/": {"GET": lambda q: _text(HTTPStatus.OK, "Hello from pyscale")},
            "/db": {"GET": self.db_read, "POST": self.db_write},
            "/cache": {"GET": self.cache},
            "/io": {"GET": self.io},
        }

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        status, content_type, body = self.dispatch(environ)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            headers.append(("Retry-After", "1"))
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            allowed = self.routes[environ.get("PATH_INFO", "")]
            methods = {*allowed, "HEAD"} if "GET" in allowed else set(allowed)
            headers.append(("Allow", ", ".join(sorted(methods))))
        start_response(f"{status.value} {status.phrase}", headers)
        return [body]

    def dispatch(self, environ: Environ) -> Result:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return _text(HTTPStatus.NOT_FOUND, "not found")
        method = environ.get("REQUEST_METHOD", "GET")
        handler = route.get("GET" if method == "HEAD" else method)
        if handler is None:
            return _text(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
        try:
            query = parse_qs(
                environ.get("QUERY_STRING", ""), strict_parsing=False, max_num_fields=10
            )
        except ValueError:
            return _text(HTTPStatus.BAD_REQUEST, "too many query parameters")
        try:
            return handler(query)
        except _BadParam as error:
            return _text(HTTPStatus.BAD_REQUEST, str(error))
        except Unavailable as error:
            return _text(HTTPStatus.SERVICE_UNAVAILABLE, f"unavailable: {error}")

    def io(self, query: dict[str, list[str]]) -> Result:
        ms = _int_param(query, "ms", DEFAULT_IO_MS, 0, MAX_IO_MS)
        time.sleep(ms / 1000)  # cooperative under gevent: other requests run meanwhile
        return _json(HTTPStatus.OK, {"waited_ms": ms})

    def db_read(self, query: dict[str, list[str]]) -> Result:
        row_id = _int_param(query, "id", 0, 0, 2**63 - 1)
        with _database_errors(), self.pools.connection("read") as conn:
            recovery, port = conn.execute(
                "SELECT pg_is_in_recovery(), inet_server_port()"
            ).fetchone()
            written = None
            if row_id:
                exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
                if exists.fetchone()[0]:
                    found = conn.execute(
                        f"SELECT created_at::text FROM {TABLE} WHERE id = %s", (row_id,)
                    ).fetchone()
                    written = found[0] if found else None
        body: dict[str, Any] = {"server": _role(recovery), "in_recovery": recovery, "port": port}
        if row_id:
            body |= {"id": row_id, "found": written is not None, "created_at": written}
        return _json(HTTPStatus.OK, body)

    def db_write(self, query: dict[str, list[str]]) -> Result:
        with _database_errors(), self.pools.connection("write") as conn:
            if self._table_pid != os.getpid():
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (CREATE_LOCK_ID,))
                    conn.execute(
                        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                        "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                        "created_at timestamptz NOT NULL DEFAULT now())"
                    )
                self._table_pid = os.getpid()
            row_id, recovery, port = conn.execute(
                f"INSERT INTO {TABLE} DEFAULT VALUES "
                "RETURNING id, pg_is_in_recovery(), inet_server_port()"
            ).fetchone()
        return _json(
            HTTPStatus.CREATED,
            {"id": row_id, "server": _role(recovery), "in_recovery": recovery, "port": port},
        )

    def cache(self, query: dict[str, list[str]]) -> Result:
        import redis

        try:
            with self.pools.cache_command() as client:
                hits = client.incr(CACHE_KEY)
        except redis.exceptions.RedisError as error:
            raise Unavailable(f"cache: {error}") from error
        return _json(HTTPStatus.OK, {"hits": hits})


class _BadParam(ValueError):
    """A query parameter out of its documented range: 400, never a 500."""


def _int_param(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise _BadParam(f"{name}: give it once")
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise _BadParam(f"{name}={raw[:32]!r}: must be a whole number from {low} to {high}")
    return int(raw)


def _role(in_recovery: bool) -> str:
    return "replica" if in_recovery else "primary"


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """Turn pool exhaustion and database failures into Unavailable (503)."""
    import psycopg
    import psycopg_pool

    try:
        yield
    except psycopg_pool.PoolTimeout as error:
        raise Unavailable("database pool exhausted") from error
    except psycopg.OperationalError as error:
        raise Unavailable(f"database: {str(error).strip()[:200]}") from error


application = App(Config.from_env(os.environ))
# The paths a node's app metrics count apart (/etc/pyscale/pyscale_metrics.py); any other
# path is counted as "other".
METRICS_ROUTES = frozenset(application.routes)
