"""`node up --no-services` / `bench.node --no-services`: the node without PostgreSQL,
PgBouncer and Redis still serves what needs none of them (/healthz, /, /io), says so, and
/db and /cache answer the app's clean 503; the package check asks for none of the services'
packages.

A second, separate node (its own name, namespace and state) beside the suite's node.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pyscale import settings
from pyscale.localnode import LocalNode, packages
from pyscale.localnode.netns import exists
from tests.node.client import raise_nofile
from tests.node.conftest import DOMAIN, STACK, STACK_FILE


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
    monkeypatch.setattr(packages.shutil, "which", lambda _: None)
    monkeypatch.setattr(packages.Path, "glob", lambda self, pattern: iter(()))
    everything = set(packages.missing())
    without = set(packages.missing(services=False))
    service_packages = {packages.PROGRAMS[p] for p in packages.SERVICE_PROGRAMS} | {"postgresql"}
    assert service_packages <= everything
    assert without == everything - service_packages
    assert {"nginx", "wrk", "iproute2"} <= without


def test_a_node_without_services_serves_io_and_answers_503_for_the_database(
    tmp_path: Path,
) -> None:
    packages.ensure(services=False)
    raise_nofile()
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE)
    state_root = Path(tempfile.mkdtemp(prefix="pyscale-node-tests-noservices-"))
    state_root.chmod(0o755)
    local = LocalNode(STACK, state_root, name="noservices")
    local.down()
    try:
        info = local.up(settings.load(STACK, tmp_path), services=False)
        ip = info["namespace"]["node_ip"]
        assert info["services"] is False
        assert any(note.startswith("backing services: not started") for note in info["notes"])
        started = {p["name"] for p in json.loads((local.state / "pids.json").read_text())}
        assert started == {"gunicorn", "nginx"}
        assert _get(ip, "/healthz") == 200
        assert _get(ip, "/io?ms=50") == 200
        assert _get(ip, "/db") == 503
        assert _get(ip, "/cache") == 503
    finally:
        stopped = local.down()
        shutil.rmtree(state_root, ignore_errors=True)
    assert "gunicorn" in stopped and "nginx" in stopped
    assert not exists(local.ns_name)
