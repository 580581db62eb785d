"""Scenarios run inside the test namespace, where PostgreSQL and Redis listen on loopback.

`python tests/app/probes.py NAME` prints one JSON object. They run in their own process
because some monkey-patch the standard library with gevent, as Gunicorn's gevent worker
does, which must not happen to the pytest process.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after monkey-patching, as in a gevent worker
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "app"))

from pyscale_demo.wsgi import App, Config  # noqa: E402

# The pool scenario's connections name themselves (test_services.py sets it in DATABASE_URL):
# PgBouncer's server connections from other scenarios use the same role.
POOL_PROBE = "pyscale-pool-probe"


def call(app: App, method: str, path: str, query: str = "") -> tuple[int, dict[str, str], str]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query},
                        start_response))  # fmt: skip
    return captured["status"], captured["headers"], body.decode()


def gevent_waits() -> dict[str, Any]:
    """Ten 0.5 s queries on ten connections at once: cooperative waits take ~0.5 s, not 5."""
    import psycopg
    from psycopg import waiting

    def one() -> None:
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            conn.execute("SELECT pg_sleep(0.5)")

    started = time.monotonic()
    gevent.joinall([gevent.spawn(one) for _ in range(10)], raise_error=True)
    return {"elapsed": time.monotonic() - started, "wait": waiting.wait.__name__}


def read_write() -> dict[str, Any]:
    app = App(Config.from_env(os.environ))
    write = call(app, "POST", "/db")
    read = call(app, "GET", "/db")
    return {"write": [write[0], json.loads(write[2])], "read": [read[0], json.loads(read[2])]}


def pool_bound() -> dict[str, Any]:
    """Requests beyond the pool wait, then get 503; connections never exceed the pool."""
    import psycopg

    app = App(Config.from_env(os.environ))
    statuses: list[int] = []
    peak = 0

    def writer() -> None:
        statuses.append(call(app, "POST", "/db")[0])

    def hold() -> None:
        with app.pools.connection("write") as conn:
            conn.execute("SELECT pg_sleep(1.5)")

    def gauges() -> list[float | None]:
        """The pool's connections in use and requests waiting, as the node's metrics count
        them (this process's own registry: no multiprocess directory here)."""
        return [REGISTRY.get_sample_value(f"pyscale_app_pool_{g}", {"pool": "write"})
                for g in ("in_use", "waiting")]  # fmt: skip

    def count() -> int:
        with psycopg.connect(os.environ["ADMIN_URL"]) as admin:
            return admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (POOL_PROBE,),
            ).fetchone()[0]

    baseline = count()
    writers = [gevent.spawn(writer) for _ in range(40)]
    while not all(w.dead for w in writers):
        peak = max(peak, count())
        gevent.sleep(0.01)
    holders = [gevent.spawn(hold) for _ in range(app.pools.config.db_pool_size)]
    gevent.sleep(0.3)
    started = time.monotonic()
    request = gevent.spawn(call, app, "GET", "/db")
    gevent.sleep(0.2)
    during = gauges()
    saturated = request.get()
    waited = time.monotonic() - started
    gevent.joinall(holders)
    return {
        "gauges": {"during": during, "after": gauges()},
        "statuses": statuses,
        "peak": max(peak, count()) - baseline,
        "saturated": [saturated[0], saturated[1].get("Retry-After"), saturated[2]],
        "waited": waited,
    }


def cache() -> dict[str, Any]:
    app = App(Config.from_env(os.environ))
    first, second = call(app, "GET", "/cache"), call(app, "GET", "/cache")
    broken = App(Config.from_env(os.environ | {"REDIS_URL": "redis://127.0.0.1:1/0"}))
    down = call(broken, "GET", "/cache")
    return {
        "hits": [json.loads(first[2])["hits"], json.loads(second[2])["hits"]],
        "down": [down[0], down[2]],
    }


if __name__ == "__main__":
    print(json.dumps(globals()[sys.argv[1]]()))
