"""The demo app's two twins without their services: routing, parameter checks,
configuration errors, and 503 (not 500) when a dependency is missing. The WSGI app is called
as a WSGI callable and the ASGI app as an ASGI one, in process, with the same cases: they
must answer alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from pyscale_demo import asgi, wsgi
from pyscale_demo.common import MAX_IO_MS, Config, ConfigError

from tests.app.asgi_probes import call as asgi_call

Answer = tuple[int, dict[str, str], str]
Caller = Callable[[str, str, str], Answer]


def _call_wsgi(app: wsgi.App, method: str, path: str, query: str) -> Answer:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    body = b"".join(app(environ, start_response)).decode()
    return captured["status"], captured["headers"], body


def _call_asgi(app: asgi.App, method: str, path: str, query: str) -> Answer:
    return asyncio.run(asgi_call(app, method, path, query))


@pytest.fixture(params=["wsgi", "asgi"])
def call(request: pytest.FixtureRequest) -> Caller:
    """One request to a fresh app of the interface, without services."""
    if request.param == "wsgi":
        app_w = wsgi.App(Config.from_env({}))
        caller = lambda m, p, q: _call_wsgi(app_w, m, p, q)  # noqa: E731
    else:
        app_a = asgi.App(Config.from_env({}))
        caller = lambda m, p, q: _call_asgi(app_a, m, p, q)  # noqa: E731

    def checked(method: str, path: str, query: str = "") -> Answer:
        status, headers, body = caller(method, path, query)
        assert headers["Content-Length"] == str(len(body.encode()))
        return status, headers, body

    return checked


def test_healthz_and_hello_need_no_dependency(call: Caller) -> None:
    assert call("GET", "/healthz")[::2] == (200, "ok\n")
    assert call("HEAD", "/healthz")[0] == 200
    assert call("GET", "/")[0] == 200


def test_io_waits_within_bounds(call: Caller) -> None:
    assert call("GET", "/io", "ms=5")[::2] == (200, '{"waited_ms":5}\n')
    for bad in ("ms=abc", "ms=-1", f"ms={MAX_IO_MS + 1}", "ms=1&ms=2", "ms=%C2%B2"):
        status, _, body = call("GET", "/io", bad)
        assert status == 400, (bad, body)


def test_unknown_paths_and_methods(call: Caller) -> None:
    assert call("GET", "/nope")[0] == 404
    status, headers, _ = call("DELETE", "/db")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    assert call("POST", "/healthz")[0] == 405


def test_missing_services_answer_503_not_500(call: Caller) -> None:
    for method, path in (("GET", "/db"), ("POST", "/db"), ("GET", "/cache")):
        status, headers, body = call(method, path)
        assert status == 503 and headers["Retry-After"] == "1", body


def test_configuration_errors_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="DB_POOL_SIZE='0'"):
        Config.from_env({"DB_POOL_SIZE": "0"})
    with pytest.raises(ConfigError, match="CACHE_POOL_SIZE='x'"):
        Config.from_env({"CACHE_POOL_SIZE": "x"})
    with pytest.raises(ConfigError, match="DB_READ_POOL_SIZE='0'"):
        Config.from_env({"DATABASE_READ_URLS": "postgresql://r/db", "DB_READ_POOL_SIZE": "0"})
    with pytest.raises(ConfigError, match="POOL_TIMEOUT_S"):
        Config.from_env({"POOL_TIMEOUT_S": "0"})


def test_configuration_follows_the_plan_environment() -> None:
    config = Config.from_env(
        {
            "DATABASE_URL": "postgresql://w/db",
            "DATABASE_READ_URLS": " postgresql://r1/db , postgresql://r2/db ,",
            "DB_POOL_SIZE": "10",
            "DB_READ_POOL_SIZE": "3",
            "CACHE_POOL_SIZE": "20",
        }
    )
    assert config.read_urls == ("postgresql://r1/db", "postgresql://r2/db")
    assert (config.db_pool_size, config.db_read_pool_size, config.cache_pool_size) == (10, 3, 20)
    # A stack without replicas: the plan's read pool is 0 and reads share the write pool.
    assert Config.from_env({"DB_READ_POOL_SIZE": "0"}).read_urls == ()


def test_the_asgi_app_handles_lifespan() -> None:
    """Startup makes the pools (no connection yet: the database need not be up), shutdown
    closes them; both are acknowledged, so uvicorn goes on serving and stopping."""
    app = asgi.App(Config.from_env({"DATABASE_URL": "postgresql://u@192.0.2.1:5432/db",
                                    "REDIS_URL": "redis://192.0.2.1:6379/0"}))  # fmt: skip
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            assert set(app.pools._pools) == {"write", "cache"}

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert app.pools._pools == {}
