"""Real Gunicorn runs the rendered post_fork hook: under load, the first generation's
workers are recycled at their staggered request counts, one after the other, never in the
same second (the articles' max_requests with random jitter restarted a busy node's workers
within seconds of each other: issue 23). The counts are scaled down so that restarts happen
within seconds; the hook and the config file are the ones a node boots with."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

from tests.ports import free_port
from tests.render.gunicorn_run import children, gunicorn

# Each worker is recycled after MAX_REQUESTS requests, one of the first two after STAGGER
# more. A worker that is recycling stops accepting, so the other takes the whole load
# meanwhile; the stagger is wide enough that the second restart still comes seconds later.
MAX_REQUESTS = 2000
STAGGER = 8000
CLIENTS = 32
DEADLINE_S = 60
APP = (
    "def application(environ, start_response):\n"
    "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
    "    return [b'ok']\n"
)


def test_first_generation_restarts_come_one_at_a_time(tmp_path: Path) -> None:
    port = free_port()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            except OSError:
                time.sleep(0.01)

    clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
    with gunicorn(tmp_path, f"127.0.0.1:{port}", APP, workers=2, max_requests=MAX_REQUESTS,
                  max_requests_stagger=STAGGER) as server:  # fmt: skip
        try:
            deadline = time.monotonic() + DEADLINE_S
            first = children(server.pid)
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
    assert len(gone) == 2, f"only {len(gone)} of the first two workers recycled in time"
    first_restart, second_restart = sorted(gone.values())
    assert second_restart - first_restart >= 1.0, sorted(gone.values())
