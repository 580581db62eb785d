"""pyscale's ASGI worker (cloud-init/files/etc/pyscale/pyscale_asgi_worker.py) under real
Gunicorn and uvicorn, with the node's rendered config for `app.interface: asgi`: the plan's
per-worker concurrency holds under overload (exactly worker_connections requests in flight,
the rest answered 503 at once), max_requests recycles the worker, SIGTERM lets in-flight
requests finish and runs the app's lifespan shutdown, and the scheme comes from Nginx's
X-Forwarded-Proto over the unix socket."""

from __future__ import annotations

import http.client
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.render.gunicorn_run import gunicorn
from tests.render.test_worker import UnixConnection, get

# An ASGI app that counts the requests it holds at once (in a file, as workers are other
# processes), waits on /slow, and records its lifespan events.
APP = """
import asyncio, json, os

STATE = os.environ["PROBE_STATE"]
in_flight = peak = 0


def record(event):
    with open(f"{STATE}/events", "a") as f:
        f.write(f"{event} {os.getpid()}\\n")


async def application(scope, receive, send):
    global in_flight, peak
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rpartition(".")[2]
            record(kind)
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    in_flight += 1
    peak = max(peak, in_flight)
    with open(f"{STATE}/peak", "w") as f:
        f.write(str(peak))
    try:
        if scope["path"] == "/slow":
            await asyncio.sleep(float(scope["query_string"] or b"2"))
        body = json.dumps({"pid": os.getpid(), "scheme": scope["scheme"],
                           "client": scope["client"]}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
    finally:
        in_flight -= 1
"""
LIMIT = 20  # worker_connections, scaled down
EXTRA = 5  # requests past the limit


@pytest.fixture(autouse=True)
def _probe_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the app records (Gunicorn inherits the test's environment)."""
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("PROBE_STATE", str(tmp_path / "state"))


def _serve(tmp: Path, **plan_fields: object):
    state = tmp / "state"
    sock = tmp / "g.sock"
    server = gunicorn(tmp, f"unix:{sock}", APP, interface="asgi", workers=1, **plan_fields)
    return server, sock, state


def _send(sock: Path, path: str) -> socket.socket:
    """A request sent and not yet answered, on its own connection."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(15)
    conn.connect(str(sock))
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return conn


def _answer(conn: socket.socket) -> http.client.HTTPResponse:
    response = http.client.HTTPResponse(conn)
    response.begin()
    response.read()
    conn.close()
    return response


def test_one_worker_holds_worker_connections_requests_and_refuses_the_rest(
    tmp_path: Path,
) -> None:
    server, sock, state = _serve(tmp_path, worker_connections=LIMIT)
    with server:
        held = []
        for _ in range(LIMIT):
            held.append(_send(sock, "/slow?3"))
            time.sleep(0.01)  # each request reaches the worker before the next
        refused = [_answer(_send(sock, "/slow?3")) for _ in range(EXTRA)]
        answers = [_answer(conn) for conn in held]
        after = get(UnixConnection(sock))[0]
    assert [r.status for r in answers] == [200] * LIMIT
    # Past the limit: 503 at once, and the connection closed, not queued behind the others.
    assert [r.status for r in refused] == [503] * EXTRA
    assert all(r.getheader("connection") == "close" for r in refused)
    assert all(r.getheader("retry-after") == "1" for r in refused)
    assert int((state / "peak").read_text()) == LIMIT
    assert after.status == 200, "the worker serves again once requests finish"


def test_idle_keep_alive_connections_do_not_count_against_the_limit(tmp_path: Path) -> None:
    """Nginx caches idle upstream connections on every worker; uvicorn's own limit counts
    them, and refused requests the worker had room for."""
    server, sock, _ = _serve(tmp_path, worker_connections=LIMIT)
    with server:
        idle = [UnixConnection(sock) for _ in range(2 * LIMIT)]
        for conn in idle:
            assert get(conn)[0].status == 200  # answered, the connection kept alive
        held = [_send(sock, "/slow?1") for _ in range(LIMIT)]
        answers = [_answer(conn) for conn in held]
    assert [r.status for r in answers] == [200] * LIMIT


def test_max_requests_recycles_the_worker(tmp_path: Path) -> None:
    server, sock, state = _serve(tmp_path, max_requests=20, max_requests_stagger=0)
    with server:
        first = get(UnixConnection(sock))[1]["pid"]
        for _ in range(25):
            get(UnixConnection(sock))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pid = get(UnixConnection(sock))[1]["pid"]
            if pid != first:
                break
            time.sleep(0.1)
    assert pid != first, "the worker was not recycled after max_requests"
    events = (state / "events").read_text().split("\n")
    # The recycled worker shut down through its lifespan, and its successor started.
    assert f"shutdown {first}" in events and f"startup {pid}" in events


def test_sigterm_finishes_in_flight_requests_and_runs_the_lifespan_shutdown(
    tmp_path: Path,
) -> None:
    server, sock, state = _serve(tmp_path)
    with server as master:
        pid = get(UnixConnection(sock))[1]["pid"]
        slow = _send(sock, "/slow?1.5")
        time.sleep(0.3)
        master.send_signal(signal.SIGTERM)
        answer = _answer(slow)
        assert master.wait(30) == 0
    assert answer.status == 200, "the in-flight request was cut"
    events = (state / "events").read_text().split("\n")
    assert events[:2] == [f"startup {pid}", f"shutdown {pid}"]


def test_the_scheme_and_client_come_from_nginx_over_the_unix_socket(tmp_path: Path) -> None:
    server, sock, _ = _serve(tmp_path)
    with server:
        conn = UnixConnection(sock)
        body = get(conn, X_Forwarded_Proto="https", X_Forwarded_For="198.51.100.7")[1]
        assert (body["scheme"], body["client"][0]) == ("https", "198.51.100.7")
        assert get(conn)[1]["scheme"] == "http"
        assert get(conn, X_Forwarded_Proto="http")[1]["scheme"] == "http"


def test_sigquit_stops_at_once_without_waiting_for_in_flight_requests(tmp_path: Path) -> None:
    """Gunicorn's quick shutdown: uvicorn-worker alone ignores it until SIGKILL, 120 s on."""
    server, sock, state = _serve(tmp_path)
    with server as master:
        slow = _send(sock, "/slow?60")
        time.sleep(0.3)
        master.send_signal(signal.SIGQUIT)
        assert master.wait(20) == 0
        # The request was cancelled, not finished: uvicorn answers a cancelled one 500.
        assert _answer(slow).status == 500
    assert "shutdown" not in (state / "events").read_text()
