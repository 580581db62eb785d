"""`node up --no-services` / `bench node --no-services`: the node without PostgreSQL,
PgBouncer and Redis still serves what needs none of them (/healthz, /, /io), says so, and
/db and /cache answer the app's clean 503; the package check asks for none of the services'
packages.

A second, separate node (its own name, namespace and state) beside the suite's node.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pyscale.localnode import missing_packages, namespace_exists
from tests.node.conftest import DOMAIN, local_node

# The Debian packages only PostgreSQL, PgBouncer and Redis need.
SERVICE_PACKAGES = {
    "pgbouncer",
    "postgresql",
    "postgresql-client",
    "redis-server",
    "redis-tools",
    "util-linux",
}


def _get(ip: str, path: str) -> int:
    request = urllib.request.Request(f"http://{ip}{path}", headers={"Host": DOMAIN})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_missing_without_services_never_asks_for_the_services_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A bare machine: no program on PATH, no PostgreSQL server installed.
    monkeypatch.setattr(shutil, "which", lambda _: None)
    monkeypatch.setattr(pathlib.Path, "glob", lambda self, pattern: iter(()))
    everything = set(missing_packages())
    without = set(missing_packages(services=False))
    assert everything >= SERVICE_PACKAGES
    assert without == everything - SERVICE_PACKAGES
    assert {"nginx", "wrk", "iproute2"} <= without


def test_a_node_without_services_serves_io_and_answers_503_for_the_database(
    tmp_path: Path,
) -> None:
    with local_node(tmp_path, name="noservices", services=False) as (local, info):
        assert info.services is False
        assert any(note.startswith("backing services: not started") for note in info.notes)
        started = {p["name"] for p in json.loads((local.state / "pids.json").read_text())}
        assert started == {"gunicorn", "nginx"}
        ip = info.namespace.node_ip
        assert _get(ip, "/healthz") == 200
        assert _get(ip, "/io?ms=50") == 200
        assert _get(ip, "/db") == 503
        assert _get(ip, "/cache") == 503
        stopped = local.down()
    assert "gunicorn" in stopped and "nginx" in stopped
    assert not namespace_exists(local.ns_name)
