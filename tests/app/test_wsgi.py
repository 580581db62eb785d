"""The demo app without its services: routing, parameter checks, configuration errors, and
503 (not 500) when a dependency is missing. Called as a WSGI callable, in process."""

from __future__ import annotations

from typing import Any

import pytest
from pyscale_demo.wsgi import MAX_IO_MS, App, Config, ConfigError


def _call(app: App, method: str, path: str, query: str = "") -> tuple[int, dict[str, str], str]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
    body = b"".join(app(environ, start_response)).decode()
    assert captured["headers"]["Content-Length"] == str(len(body.encode()))
    return captured["status"], captured["headers"], body


@pytest.fixture
def app() -> App:
    return App(Config.from_env({}))


def test_healthz_and_hello_need_no_dependency(app: App) -> None:
    assert _call(app, "GET", "/healthz")[::2] == (200, "ok\n")
    assert _call(app, "HEAD", "/healthz")[0] == 200
    assert _call(app, "GET", "/")[0] == 200


def test_io_waits_within_bounds(app: App) -> None:
    assert _call(app, "GET", "/io", "ms=5")[::2] == (200, '{"waited_ms":5}\n')
    for bad in ("ms=abc", "ms=-1", f"ms={MAX_IO_MS + 1}", "ms=1&ms=2", "ms=%C2%B2"):
        status, _, body = _call(app, "GET", "/io", bad)
        assert status == 400, (bad, body)


def test_unknown_paths_and_methods(app: App) -> None:
    assert _call(app, "GET", "/nope")[0] == 404
    status, headers, _ = _call(app, "DELETE", "/db")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST"
    assert _call(app, "POST", "/healthz")[0] == 405


def test_missing_services_answer_503_not_500(app: App) -> None:
    for method, path in (("GET", "/db"), ("POST", "/db"), ("GET", "/cache")):
        status, headers, body = _call(app, method, path)
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
