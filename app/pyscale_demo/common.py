"""What the demo app's two interfaces share: wsgi.py (Gunicorn's gevent worker) and asgi.py
(uvicorn) answer the same routes with the same checks, bodies and statuses, from one
configuration. Defined once here so the twins cannot drift; tests/app runs the same cases
against both.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

# Bounds for GET /io: a request parameter must not be able to hold a request open for hours.
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


class ConfigError(ValueError):
    """A bad environment variable: raised at import so a misconfigured worker never boots."""


def pool_size(env: Mapping[str, str], name: str, default: int, low: int = 1) -> int:
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
        db_pool = pool_size(env, "DB_POOL_SIZE", 1)
        return cls(
            database_url=env.get("DATABASE_URL", "").strip(),
            read_urls=read_urls,
            redis_url=env.get("REDIS_URL", "").strip(),
            db_pool_size=db_pool,
            # The plan gives a read pool of 0 when the stack has no replica (reads then
            # share the write pool); with replicas a read pool needs a connection.
            db_read_pool_size=pool_size(
                env, "DB_READ_POOL_SIZE", db_pool, low=1 if read_urls else 0
            ),
            cache_pool_size=pool_size(env, "CACHE_POOL_SIZE", 1),
            pool_timeout_s=timeout,
        )


class Unavailable(Exception):
    """A dependency is missing, down or saturated: the request gets 503, the worker lives."""


@functools.cache
def _pool_gauges() -> tuple[Any, Any]:
    """Made once per process (a registry takes each name once), after fork: the app is
    loaded in each worker."""
    from prometheus_client import Gauge

    in_use = Gauge("pyscale_app_pool_in_use", "Pooled connections in use.", ["pool"],
                   multiprocess_mode="livesum")  # fmt: skip
    waiting = Gauge("pyscale_app_pool_waiting", "Requests waiting for a pooled connection.",
                    ["pool"], multiprocess_mode="livesum")  # fmt: skip
    return in_use, waiting


class PoolUse:
    """How many of this process's pooled connections are in use, and how many requests wait
    for one, by pool (write, read, cache): summed over a node's live workers, they are what
    the plan's pool alerts compare with workers x pool size. The same count on both twins,
    whether their pools are waited on with `with` or `async with`."""

    def __init__(self) -> None:
        self._in_use, self._waiting = _pool_gauges()

    @contextlib.contextmanager
    def waiting(self, name: str) -> Iterator[Callable[[], contextlib.AbstractContextManager]]:
        """Counted as waiting for a `name` connection until the `acquired()` it yields is
        entered, then in use until that exits; a wait that fails (the pool timed out, the
        database refused) stops counting as it leaves."""
        waiting = self._waiting.labels(name)
        waiting.inc()
        left = False

        @contextlib.contextmanager
        def acquired() -> Iterator[None]:
            nonlocal left
            waiting.dec()
            left = True
            with self.in_use(name):
                yield

        try:
            yield acquired
        finally:
            if not left:
                waiting.dec()

    def in_use(self, name: str) -> contextlib.AbstractContextManager:
        """Counted as a `name` connection in use while entered."""
        return self._in_use.labels(name).track_inprogress()


# An answer: its status, content type and body.
Result = tuple[HTTPStatus, str, bytes]


def json_result(status: HTTPStatus, body: Mapping[str, Any]) -> Result:
    return status, "application/json", json.dumps(body, separators=(",", ":")).encode() + b"\n"


def text_result(status: HTTPStatus, body: str) -> Result:
    return status, "text/plain; charset=utf-8", body.encode() + b"\n"


class BadParam(ValueError):
    """A query parameter out of its documented range: 400, never a 500."""


def int_param(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise BadParam(f"{name}: give it once")
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParam(f"{name}={raw[:32]!r}: must be a whole number from {low} to {high}")
    return int(raw)


def role(in_recovery: bool) -> str:
    return "replica" if in_recovery else "primary"


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """Turn pool exhaustion and database failures into Unavailable (503); psycopg's sync and
    async pools raise the same errors."""
    import psycopg
    import psycopg_pool

    try:
        yield
    except psycopg_pool.PoolTimeout as error:
        raise Unavailable("database pool exhausted") from error
    except psycopg.OperationalError as error:
        raise Unavailable(f"database: {str(error).strip()[:200]}") from error


# The statements both twins run: a read says which server answered, and, given a row id,
# whether the row written on the primary has reached this server.
WHO_ANSWERS = "SELECT pg_is_in_recovery(), inet_server_port()"
TABLE_EXISTS = "SELECT to_regclass(%s) IS NOT NULL"
ROW_CREATED = f"SELECT created_at::text FROM {TABLE} WHERE id = %s"
LOCK_CREATE = "SELECT pg_advisory_xact_lock(%s)"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "created_at timestamptz NOT NULL DEFAULT now())"
)
INSERT_ROW = (
    f"INSERT INTO {TABLE} DEFAULT VALUES RETURNING id, pg_is_in_recovery(), inet_server_port()"
)


def read_body(row_id: int, recovery: bool, port: int, written: str | None) -> Result:
    """GET /db's answer: the server that answered and, for `?id=N`, whether row N is there."""
    body: dict[str, Any] = {"server": role(recovery), "in_recovery": recovery, "port": port}
    if row_id:
        body |= {"id": row_id, "found": written is not None, "created_at": written}
    return json_result(HTTPStatus.OK, body)


def write_body(row_id: int, recovery: bool, port: int) -> Result:
    """POST /db's answer: the new row and the server that wrote it."""
    body = {"id": row_id, "server": role(recovery), "in_recovery": recovery, "port": port}
    return json_result(HTTPStatus.CREATED, body)


Handler = Callable[..., Any]
# path -> method -> handler name, the same on both interfaces.
ROUTES: Mapping[str, Mapping[str, str]] = {
    "/healthz": {"GET": "healthz"},
    "/": {"GET": "hello"},
    "/db": {"GET": "db_read", "POST": "db_write"},
    "/cache": {"GET": "cache"},
    "/io": {"GET": "io"},
}
# The paths a node's app metrics count apart (/etc/pyscale/pyscale_metrics.py); any other
# path is counted as "other".
METRICS_ROUTES = frozenset(ROUTES)


Query = dict[str, list[str]]


@dataclass(frozen=True)
class Call:
    """A request that reaches a handler, with its parsed query."""

    handler: Handler
    query: Query


def resolve(target: Any, path: str, method: str, query_string: str) -> Result | Call:
    """The handler of `target` (the WSGI or ASGI app) for a request and its parsed query, or
    the answer when there is none: 404, 405, or 400 for a query too large."""
    route = ROUTES.get(path)
    if route is None:
        return text_result(HTTPStatus.NOT_FOUND, "not found")
    name = route.get("GET" if method == "HEAD" else method)
    if name is None:
        return text_result(HTTPStatus.METHOD_NOT_ALLOWED, "method not allowed")
    try:
        query = parse_qs(query_string, strict_parsing=False, max_num_fields=10)
    except ValueError:
        return text_result(HTTPStatus.BAD_REQUEST, "too many query parameters")
    return Call(getattr(target, name), query)


def headers(result: Result, path: str) -> list[tuple[str, str]]:
    """The answer's headers: its type and length, Retry-After on 503, Allow on 405."""
    status, content_type, body = result
    out = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        out.append(("Retry-After", "1"))
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = ROUTES[path]
        methods = {*allowed, "HEAD"} if "GET" in allowed else set(allowed)
        out.append(("Allow", ", ".join(sorted(methods))))
    return out


def hello() -> Result:
    return text_result(HTTPStatus.OK, "Hello from pyscale")


def healthz() -> Result:
    return text_result(HTTPStatus.OK, "ok")
