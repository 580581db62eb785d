"""The demo ASGI app: the twin of wsgi.py for `app.interface: asgi`, served by uvicorn.

Same routes, checks, bodies and statuses as the WSGI app (common.py holds what they share;
wsgi.py documents the routes), on asyncio libraries instead of gevent's patched ones:
psycopg's AsyncConnectionPool for PostgreSQL (the same driver and PgBouncer settings as the
WSGI app, so the plan's pools mean the same) and redis.asyncio for Valkey, with the same
per-process pool sizes and POOL_TIMEOUT_S.

Lifespan: startup makes this worker's pools (connections are opened on first use, as on the
WSGI app), shutdown closes them, so a worker that stops, is recycled or redeployed hands its
database and cache connections back instead of leaving them to the server's idle timeout.
Without lifespan events (a server that sends none) the pools are made on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
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

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Pools:
    """This worker's database and cache pools, made once per event loop, and the count of
    their connections in use (common.PoolUse, as the WSGI app's)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = asyncio.Lock()
        self._pools: dict[str, Any] = {}
        self.use = PoolUse()

    async def open(self) -> None:
        """Make every configured pool (lifespan startup); no connection is opened yet."""
        if self.config.database_url:
            await self.writer()
            await self.reader()
        if self.config.redis_url:
            await self.cache()

    async def close(self) -> None:
        """Close every pool and its connections (lifespan shutdown)."""
        async with self._lock:
            pools, self._pools = self._pools, {}
        for name, pool in pools.items():
            if name == "cache":
                await pool.aclose()
                await pool.connection_pool.disconnect()
            else:
                await pool.close()

    @contextlib.asynccontextmanager
    async def connection(self, name: str) -> AsyncIterator[Any]:
        """A connection from the `name` pool ("write" or "read"), counted while waited for
        and while in use."""
        pool = await (self.writer() if name == "write" else self.reader())
        if not self.config.read_urls:
            name = "write"  # reads go to the primary's pool: counted as that pool
        with self.use.waiting(name) as acquired:
            async with pool.connection() as conn:
                with acquired():
                    yield conn

    @contextlib.asynccontextmanager
    async def cache_command(self) -> AsyncIterator[Any]:
        """The cache client, its connection counted in use for the command."""
        client = await self.cache()
        with self.use.in_use("cache"):
            yield client

    async def _get(self, name: str, create: Callable[[], Awaitable[Any]]) -> Any:
        async with self._lock:
            if name not in self._pools:
                self._pools[name] = await create()
            return self._pools[name]

    async def _pg_pool(self, url: str, size: int, name: str) -> Any:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            url,
            min_size=0,
            max_size=size,
            timeout=self.config.pool_timeout_s,
            name=name,
            # PgBouncer in transaction mode: no server-side prepared statements (wsgi.py).
            kwargs={"autocommit": True, "prepare_threshold": None},
            open=False,
        )
        await pool.open()
        return pool

    async def writer(self) -> Any:
        if not self.config.database_url:
            raise Unavailable("DATABASE_URL is not set")
        config = self.config
        return await self._get(
            "write", lambda: self._pg_pool(config.database_url, config.db_pool_size, "write")
        )

    async def reader(self) -> Any:
        urls = self.config.read_urls
        if not urls:
            return await self.writer()
        # One replica per process, as the capacity plan counts them (readers per replica).
        url = urls[os.getpid() % len(urls)]
        size = self.config.db_read_pool_size
        return await self._get("read", lambda: self._pg_pool(url, size, "read"))

    async def cache(self) -> Any:
        if not self.config.redis_url:
            raise Unavailable("REDIS_URL is not set")

        async def create() -> Any:
            import redis.asyncio

            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.config.redis_url,
                max_connections=self.config.cache_pool_size,
                timeout=self.config.pool_timeout_s,
            )
            return redis.asyncio.Redis(connection_pool=pool)

        return await self._get("cache", create)


class App:
    """The ASGI callable: the shared route table, strict parameter checks, 503 on
    saturation, and lifespan for the pools."""

    def __init__(self, config: Config) -> None:
        self.pools = Pools(config)
        # The table is made once per process (the WSGI app's rule), not per write.
        self._table_ready = False

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"the demo app serves HTTP only, not {scope['type']}")
        path = scope["path"]
        result = await self.dispatch(path, scope["method"], scope["query_string"].decode("latin-1"))
        status, _, body = result
        await send(
            {
                "type": "http.response.start",
                "status": status.value,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers(result, path)],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.pools.open()
                except Exception as error:  # a worker that cannot start must say why
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pools.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def dispatch(self, path: str, method: str, query_string: str) -> Result:
        found = resolve(self, path, method, query_string)
        if not isinstance(found, Call):
            return found
        try:
            return await found.handler(found.query)
        except BadParam as error:
            return text_result(HTTPStatus.BAD_REQUEST, str(error))
        except Unavailable as error:
            return text_result(HTTPStatus.SERVICE_UNAVAILABLE, f"unavailable: {error}")

    async def healthz(self, query: Query) -> Result:
        return _healthz()

    async def hello(self, query: Query) -> Result:
        return _hello()

    async def io(self, query: Query) -> Result:
        ms = int_param(query, "ms", DEFAULT_IO_MS, 0, MAX_IO_MS)
        await asyncio.sleep(ms / 1000)
        return json_result(HTTPStatus.OK, {"waited_ms": ms})

    async def db_read(self, query: Query) -> Result:
        row_id = int_param(query, "id", 0, 0, 2**63 - 1)
        with database_errors():
            async with self.pools.connection("read") as conn:
                recovery, port = await (await conn.execute(WHO_ANSWERS)).fetchone()
                written = None
                if row_id and (await (await conn.execute(TABLE_EXISTS, (TABLE,))).fetchone())[0]:
                    found = await (await conn.execute(ROW_CREATED, (row_id,))).fetchone()
                    written = found[0] if found else None
        return read_body(row_id, recovery, port, written)

    async def db_write(self, query: Query) -> Result:
        with database_errors():
            async with self.pools.connection("write") as conn:
                if not self._table_ready:
                    async with conn.transaction():
                        await conn.execute(LOCK_CREATE, (CREATE_LOCK_ID,))
                        await conn.execute(CREATE_TABLE)
                    self._table_ready = True
                row_id, recovery, port = await (await conn.execute(INSERT_ROW)).fetchone()
        return write_body(row_id, recovery, port)

    async def cache(self, query: Query) -> Result:
        import redis

        try:
            async with self.pools.cache_command() as client:
                hits = await client.incr(CACHE_KEY)
        except redis.exceptions.RedisError as error:
            raise Unavailable(f"cache: {error}") from error
        return json_result(HTTPStatus.OK, {"hits": hits})


application = App(Config.from_env(os.environ))
