"""The node's lock, installed for real: a fresh virtualenv built from nothing but the
rendered /etc/pyscale/requirements.txt, as runcmd builds it, must import the worker class
the rendered Gunicorn config names and pass `gunicorn --check-config` with the demo app.

This is the check that was missing when nodes booted with `packaging` absent: the test
virtualenv had it through pytest, so every render test passed while Gunicorn's gevent worker
could not import on a fresh node. Here nothing comes from the test virtualenv.
"""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from pyscale import capacity, render, settings

REPO = Path(__file__).resolve().parents[2]
# What runcmd runs, with the node's paths replaced by the test's.
PIP_INSTALL = ("install", "--no-cache-dir", "--require-hashes", "--only-binary", ":all:", "-r")
# Loads the rendered config as Gunicorn does and resolves its worker class (which imports the
# worker's module): `--check-config` alone loads the app but never the worker.
WORKER_PROBE = """
import runpy, sys
from gunicorn.config import Config
config = Config()
config.set("worker_class", runpy.run_path(sys.argv[1])["worker_class"])
worker = config.worker_class
print(f"{worker.__module__}.{worker.__qualname__}")
"""


def run(argv: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs
    )


@pytest.fixture(scope="module")
def node_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, render.RenderedNode]:
    """The prod node's rendered files and a venv built only from its rendered lock."""
    root = tmp_path_factory.mktemp("node")
    stack = settings.load("prod", REPO)
    plan = capacity.plan(stack)
    node = render.node(plan, stack, render.placeholder_secrets(plan))
    render.write_tree(node, root)
    env = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    lock = root / "files/etc/pyscale/requirements.txt"
    installed = run([env / "bin/python", "-m", "pip", *PIP_INSTALL, lock])
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return root, node


def probe_worker(env: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return run([env / "bin/python", "-c", WORKER_PROBE, config])


def test_the_lock_installs_everything_the_gevent_worker_imports(node_venv) -> None:
    root, _ = node_venv
    probed = probe_worker(root / "venv", root / "files/etc/pyscale/gunicorn.conf.py")
    assert probed.returncode == 0, probed.stderr[-3000:]
    assert probed.stdout.strip() == "gunicorn.workers.ggevent.GeventWorker"


def test_gunicorn_checks_the_rendered_config_in_the_locked_venv(node_venv) -> None:
    root, node = node_venv
    app_env = dict(
        line.split("=", 1)
        for line in node.file("/etc/pyscale/env").content.splitlines()
        if line and not line.startswith("#")
    )
    # The unit's WorkingDirectory is the demo app's directory: Gunicorn imports it from there.
    checked = run(
        [root / "venv/bin/gunicorn", "--check-config", "--config",
         root / "files/etc/pyscale/gunicorn.conf.py"],
        env={"PATH": os.environ["PATH"]} | {k: v.strip('"') for k, v in app_env.items()},
        cwd=root / f"files{render.DEMO_DIR}",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]


def test_the_probe_fails_without_a_dependency_of_the_gevent_extra(node_venv) -> None:
    """The regression itself: Gunicorn installed without `packaging` (what `pip install
    gunicorn gevent` gave) cannot load the gevent worker."""
    root, _ = node_venv
    env = root / "venv"
    removed = run([env / "bin/python", "-m", "pip", "uninstall", "--yes", "packaging"])
    assert removed.returncode == 0, removed.stderr
    try:
        probed = probe_worker(env, root / "files/etc/pyscale/gunicorn.conf.py")
        assert probed.returncode != 0
        assert "No module named 'packaging'" in probed.stderr
    finally:
        run([env / "bin/python", "-m", "pip", *PIP_INSTALL,
             root / "files/etc/pyscale/requirements.txt"])  # fmt: skip


def test_the_lock_covers_this_python() -> None:
    """The test above runs with this machine's Python: the lock must name it as a target."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"#   Python {version}:" in render.NODE_LOCK.read_text()
