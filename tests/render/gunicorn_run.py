"""Real Gunicorn with a node's rendered config and worker module, bound where a test says.

The config, the worker module of the app interface (pyscale_worker.py or
pyscale_asgi_worker.py) and pyscale_metrics.py are the files a node boots with; only the
bind address, the control socket, the pythonpath and the metrics directory and port (node
paths) are pointed into the test's directory and a free port, and
the plan numbers a test scales down are passed as GunicornPlan fields.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyscale import capacity, render, settings
from pyscale.settings.interface import serving_demo
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
START_S = 30


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def printed_settings(stdout: str) -> dict[str, str]:
    """`gunicorn --print-config`'s output as setting -> value (both as printed)."""
    return {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
        for line in stdout.splitlines()
        if "=" in line
    }


def assert_plan_numbers(seen: dict[str, str], g: capacity.GunicornPlan) -> None:
    """What Gunicorn loaded (`printed_settings`) carries the plan's worker numbers."""
    assert seen["worker_class"] == g.worker_class
    for name, value in (("workers", g.workers), ("worker_connections", g.worker_connections),
                        ("backlog", g.backlog), ("timeout", g.timeout_s),
                        ("graceful_timeout", g.graceful_timeout_s), ("keepalive", g.keepalive_s),
                        ("max_requests", g.max_requests)):  # fmt: skip
        assert seen[name] == str(value), name


def _set(config: str, name: str, value: str) -> str:
    """`config` with the top-level assignment of `name` replaced (or added)."""
    line = f"{name} = {value}"
    replaced, count = re.subn(rf"^{name} = .*$", line, config, flags=re.M)
    return replaced if count else f"{config}\n{line}\n"


@contextmanager
def gunicorn(tmp: Path, bind: str, app: str, extra: dict[str, str] | None = None,
             interface: str = "wsgi",
             **plan_fields: Any) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """Serve the source `app` (its `application`, WSGI or ASGI by `interface`) with the dev
    stack's rendered config for that interface, `plan_fields` replaced in its Gunicorn plan
    and `extra` settings set verbatim; yield the master once all its workers run, and stop
    it (SIGQUIT) after."""
    tmp.mkdir(parents=True, exist_ok=True)
    stack = serving_demo(settings.load("dev", REPO), interface)
    plan = capacity.plan(stack)
    plan = dataclasses.replace(plan, gunicorn=dataclasses.replace(plan.gunicorn, **plan_fields))
    node = render.node(plan, stack, render.placeholder_secrets(plan))
    config = node.file("/etc/pyscale/gunicorn.conf.py").content
    for name, value in {"bind": repr(bind), "control_socket": repr(f"{tmp}/ctl"),
                        "pythonpath": repr(str(tmp)), "metrics_dir": repr(f"{tmp}/metrics"),
                        "metrics_port": str(free_port()), **(extra or {})}.items():  # fmt: skip
        config = _set(config, name, value)
    (tmp / "gunicorn.conf.py").write_text(config)
    for module in (plan.gunicorn.worker_class.partition(".")[0], "pyscale_metrics"):
        (tmp / f"{module}.py").write_text(node.file(f"/etc/pyscale/{module}.py").content)
    app_dir = tmp / "app"
    app_dir.mkdir()
    (app_dir / "probe_app.py").write_text(app)
    server = subprocess.Popen(
        [GUNICORN, "--config", tmp / "gunicorn.conf.py", "probe_app:application"],
        cwd=app_dir,
        env=os.environ | {"PYTHONPATH": str(app_dir)},
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "gunicorn.log", "wb"),  # noqa: SIM115 (closed with the process)
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_S
        while len(children(server.pid)) < plan.gunicorn.workers:
            assert server.poll() is None, (tmp / "gunicorn.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "Gunicorn did not start its workers"
            time.sleep(0.05)
        yield server
    finally:
        server.send_signal(signal.SIGQUIT)  # quick shutdown: idle keep-alives would wait
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
