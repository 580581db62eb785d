"""Real Gunicorn runs the rendered post_fork hook: under load, the first generation's
workers are recycled at their staggered request counts, one after the other, never in the
same second (the articles' max_requests with random jitter restarted a busy node's workers
within seconds of each other: issue 23). The counts are scaled down so that restarts happen
within seconds; the hook and the config file are the ones a node boots with."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from pyscale import capacity, render, settings

REPO = Path(__file__).resolve().parents[2]
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
# Each worker is recycled after MAX_REQUESTS requests, one of the first two after STAGGER
# more. A worker that is recycling stops accepting, so the other takes the whole load
# meanwhile; the stagger is wide enough that the second restart still comes seconds later.
MAX_REQUESTS = 2000
STAGGER = 8000
CLIENTS = 32
DEADLINE_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def test_first_generation_restarts_come_one_at_a_time(tmp_path: Path) -> None:
    stack = settings.load("dev", REPO)
    plan = capacity.plan(stack)
    gunicorn_plan = dataclasses.replace(
        plan.gunicorn, workers=2, max_requests=MAX_REQUESTS, max_requests_stagger=STAGGER
    )
    node = render.node(
        dataclasses.replace(plan, gunicorn=gunicorn_plan), stack, render.placeholder_secrets(plan)
    )
    port = free_port()
    config = node.file("/etc/pyscale/gunicorn.conf.py").content
    config = re.sub(r"^bind = .*$", f'bind = "127.0.0.1:{port}"', config, flags=re.M)
    config = re.sub(r"^control_socket = .*$", f'control_socket = "{tmp_path}/ctl"', config,
                    flags=re.M)  # fmt: skip
    (tmp_path / "gunicorn.conf.py").write_text(config)
    app = tmp_path / "app"
    app.mkdir()
    (app / "tiny.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'ok']\n"
    )
    server = subprocess.Popen(
        [GUNICORN, "--config", tmp_path / "gunicorn.conf.py", "tiny:application"],
        cwd=app,
        env=os.environ | {"PYTHONPATH": str(app)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            except OSError:
                time.sleep(0.01)

    clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        deadline = time.monotonic() + DEADLINE_S
        while len(first := children(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(first) == 2, "Gunicorn did not start its two workers"
        for thread in clients:
            thread.start()
        gone: dict[int, float] = {}
        while len(gone) < 2 and time.monotonic() < deadline:
            now, alive = time.monotonic(), children(server.pid)
            gone |= {pid: now for pid in first - alive if pid not in gone}
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in clients:
            if thread.is_alive():
                thread.join()
        server.send_signal(signal.SIGQUIT)  # quick shutdown: idle keep-alives would wait
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    assert len(gone) == 2, f"only {len(gone)} of the first two workers recycled in time"
    first_restart, second_restart = sorted(gone.values())
    assert second_restart - first_restart >= 1.0, sorted(gone.values())
