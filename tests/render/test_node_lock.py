"""The node's lock, installed for real: a fresh virtualenv built from nothing but the
rendered /etc/pyscale/requirements.txt, as runcmd builds it, must import the worker class
the rendered Gunicorn config names and pass `gunicorn --check-config` with the demo app,
with the node's Python (Debian 13: 3.13, in the rehearsal's toolbox image) and with this
machine's (where tests/node and bench/ run the same packages).

This is the check that was missing when nodes booted with `packaging` absent: the test
virtualenv had it through pytest, so every render test passed while Gunicorn's gevent worker
could not import on a fresh node. Here nothing comes from the test virtualenv.
"""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pyscale import capacity, nodeos, render, settings
from pyscale.rehearsal.toolbox import Toolbox

REPO = Path(__file__).resolve().parents[2]
# What runcmd runs, with the node's paths replaced by the test's.
PIP_INSTALL = ("install", "--no-cache-dir", "--require-hashes", "--only-binary", ":all:", "-r")
# Loads the rendered config as Gunicorn does and resolves its worker class (which imports the
# worker's module): `--check-config` alone loads the app but never the worker.
# The config's pythonpath names a node path: argv[2] is where the rendered tree holds it.
WORKER_PROBE = """
import runpy, sys
from gunicorn.config import Config
rendered = runpy.run_path(sys.argv[1])
sys.path.insert(0, sys.argv[2] + rendered["pythonpath"])
config = Config()
config.set("worker_class", rendered["worker_class"])
worker = config.worker_class
print(f"{worker.__module__}.{worker.__qualname__}")
"""
Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module", params=["node", "here"])
def node_venv(request, tmp_path_factory) -> tuple[Path, render.RenderedNode, Runner]:
    """The prod node's rendered files, a venv built only from its rendered lock, and how to
    run commands with that venv's Python (the node's, or this machine's)."""
    root = tmp_path_factory.mktemp(f"node-{request.param}")
    stack = settings.load("prod", REPO)
    plan = capacity.plan(stack)
    node = render.node(plan, stack, render.placeholder_secrets(plan))
    render.write_tree(node, root)
    if request.param == "node":
        toolbox = Toolbox()
        assert stack.node_os.debian_release == toolbox.release, "toolbox is not the node's OS"

        def runner(*argv, cwd=None, env=None) -> subprocess.CompletedProcess[str]:
            exports = " ".join(f"{k}={v!r}" for k, v in (env or {}).items())
            script = f"cd {cwd or root} && env {exports} " + " ".join(str(a) for a in argv)
            return toolbox.run("sh", "-c", script, mounts=[root], network=True)

        python = "python3"
    else:

        def runner(*argv, cwd=None, env=None) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                                  timeout=300, cwd=cwd, env=env)  # fmt: skip

        python = sys.executable
    created = runner(python, "-m", "venv", root / "venv")
    assert created.returncode == 0, created.stderr
    lock = root / "files/etc/pyscale/requirements.txt"
    installed = runner(root / "venv/bin/python", "-m", "pip", *PIP_INSTALL, lock)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return root, node, runner


def probe_worker(runner: Runner, root: Path) -> subprocess.CompletedProcess[str]:
    probe = root / "probe.py"
    probe.write_text(WORKER_PROBE)
    return runner(root / "venv/bin/python", probe, root / "files/etc/pyscale/gunicorn.conf.py",
                  root / "files")  # fmt: skip


def test_the_lock_installs_everything_the_gevent_worker_imports(node_venv) -> None:
    root, node, runner = node_venv
    probed = probe_worker(runner, root)
    assert probed.returncode == 0, probed.stderr[-3000:]
    assert probed.stdout.strip() == "pyscale_worker.Worker"
    assert node.file("/etc/pyscale/pyscale_worker.py").content == render.WORKER_MODULE.read_text()


def test_gunicorn_checks_the_rendered_config_in_the_locked_venv(node_venv) -> None:
    root, node, runner = node_venv
    app_env = dict(
        line.split("=", 1)
        for line in node.file("/etc/pyscale/env").content.splitlines()
        if line and not line.startswith("#")
    )
    # The unit's WorkingDirectory is the demo app's directory: Gunicorn imports it from there.
    checked = runner(
        root / "venv/bin/gunicorn", "--check-config", "--config",
        root / "files/etc/pyscale/gunicorn.conf.py",
        env={"PATH": "/usr/bin:/bin"} | {k: v.strip('"') for k, v in app_env.items()},
        cwd=root / f"files{render.DEMO_DIR}",
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]


def test_the_probe_fails_without_a_dependency_of_the_gevent_extra(node_venv) -> None:
    """The regression itself: Gunicorn installed without `packaging` (what `pip install
    gunicorn gevent` gave) cannot load the gevent worker."""
    root, _, runner = node_venv
    removed = runner(root / "venv/bin/python", "-m", "pip", "uninstall", "--yes", "packaging")
    assert removed.returncode == 0, removed.stderr
    try:
        probed = probe_worker(runner, root)
        assert probed.returncode != 0
        assert "No module named 'packaging'" in probed.stderr
    finally:
        runner(root / "venv/bin/python", "-m", "pip", *PIP_INSTALL,
               root / "files/etc/pyscale/requirements.txt")  # fmt: skip


def test_the_lock_covers_every_node_os_and_this_python() -> None:
    """Each Python the lock must carry a wheel for is named in its header: every node OS
    pyscale renders for, and this machine's (the tests above install it here)."""
    lock = render.NODE_LOCK.read_text()
    pythons = {os.python for os in nodeos.SYSTEMS.values()}
    pythons.add(f"{sys.version_info.major}.{sys.version_info.minor}")
    for python in pythons:
        assert f"#   Python {python}:" in lock, f"regenerate the lock: pyscale lock ({python})"
