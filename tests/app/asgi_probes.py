"""The ASGI twin's scenarios against real PostgreSQL (through PgBouncer) and Redis, run inside
the test namespace like probes.py, each in its own process and event loop, as a uvicorn
worker runs the app.

`python tests/app/asgi_probes.py NAME` prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from prometheus_client import REGISTRY

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "app"))

from pyscale_demo.asgi import App, Config

# The pool scenario's connections name themselves (test_services.py sets it in DATABASE_URL):
# PgBouncer's server connections from other scenarios use the same role.
POOL_PROBE = "pyscale-pool-probe"

Answer = tuple[int, dict[str, str], str]


async def call(app: App, method: str, path: str, query: str = "") -> Answer:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode()}
    await app(scope, receive, send)
    start, body = sent
    headers = {k.decode().title(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, body["body"].decode()


async def lifespan(app: App, event: str) -> None:
    """One lifespan event (startup or shutdown), as uvicorn sends it."""
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if done.is_set():
            await asyncio.sleep(3600)  # uvicorn keeps the lifespan task waiting
        return {"type": f"lifespan.{event}"}

    async def send(message: dict[str, Any]) -> None:
        assert message["type"] == f"lifespan.{event}.complete", message
        done.set()

    task = asyncio.create_task(app({"type": "lifespan"}, receive, send))
    await done.wait()
    task.cancel()


async def read_write() -> dict[str, Any]:
    app = App(Config.from_env(os.environ))
    await lifespan(app, "startup")
    write = await call(app, "POST", "/db")
    read = await call(app, "GET", "/db", f"id={json.loads(write[2])['id']}")
    await lifespan(app, "shutdown")
    return {"write": [write[0], json.loads(write[2])], "read": [read[0], json.loads(read[2])]}


async def pool_bound() -> dict[str, Any]:
    """Requests beyond the pool wait, then get 503; connections never exceed the pool; the
    lifespan shutdown hands every connection back."""
    import psycopg

    app = App(Config.from_env(os.environ))
    await lifespan(app, "startup")

    async def count() -> int:
        async with await psycopg.AsyncConnection.connect(os.environ["ADMIN_URL"]) as admin:
            cursor = await admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (POOL_PROBE,),
            )
            return (await cursor.fetchone())[0]

    def gauges() -> list[float | None]:
        return [REGISTRY.get_sample_value(f"pyscale_app_pool_{g}", {"pool": "write"})
                for g in ("in_use", "waiting")]  # fmt: skip

    baseline = await count()
    writers = [asyncio.create_task(call(app, "POST", "/db")) for _ in range(40)]
    peak = 0
    while not all(w.done() for w in writers):
        peak = max(peak, await count())
        await asyncio.sleep(0.01)
    statuses = [w.result()[0] for w in writers]

    async def hold() -> None:
        async with app.pools.connection("write") as conn:
            await conn.execute("SELECT pg_sleep(1.5)")

    holders = [asyncio.create_task(hold()) for _ in range(app.pools.config.db_pool_size)]
    await asyncio.sleep(0.3)
    started = time.monotonic()
    request = asyncio.create_task(call(app, "GET", "/db"))
    await asyncio.sleep(0.2)
    during = gauges()
    saturated = await request
    waited = time.monotonic() - started
    await asyncio.gather(*holders)
    held = await count() - baseline
    await lifespan(app, "shutdown")
    await asyncio.sleep(0.2)
    return {
        "gauges": {"during": during, "after": gauges()},
        "statuses": statuses,
        "peak": max(peak, held),
        "held_before_shutdown": held,
        "held_after_shutdown": await count() - baseline,
        "saturated": [saturated[0], saturated[1].get("Retry-After"), saturated[2]],
        "waited": waited,
    }


async def cache() -> dict[str, Any]:
    app = App(Config.from_env(os.environ))
    first, second = await call(app, "GET", "/cache"), await call(app, "GET", "/cache")
    broken = App(Config.from_env(os.environ | {"REDIS_URL": "redis://127.0.0.1:1/0"}))
    down = await call(broken, "GET", "/cache")
    return {
        "hits": [json.loads(first[2])["hits"], json.loads(second[2])["hits"]],
        "down": [down[0], down[2]],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(globals()[sys.argv[1]]())))
