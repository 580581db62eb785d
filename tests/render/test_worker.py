"""pyscale's Gunicorn worker (cloud-init/files/etc/pyscale/pyscale_worker.py) under real
Gunicorn, with the node's rendered config: the parts of Gunicorn's request handling that
its `gevent_pywsgi` worker skips, each shown to hold: max_requests counted (and the
connection closed with `Connection: close` on the way out), the scheme taken from
X-Forwarded-Proto only from a trusted peer, the idle keep-alive timeout, and the
request-line and header limits."""

from __future__ import annotations

import http.client
import json
import socket
import time
from pathlib import Path

from tests.ports import free_port
from tests.render.gunicorn_run import gunicorn

APP = """
import json, os

def application(environ, start_response):
    body = json.dumps({"pid": os.getpid(), "scheme": environ["wsgi.url_scheme"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
"""


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the unix socket, as Nginx reaches Gunicorn on a node."""

    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=10)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def get(conn: http.client.HTTPConnection, path: str = "/", **headers: str):
    conn.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = conn.getresponse()
    body = response.read()
    return response, (json.loads(body) if response.status == 200 else body)


def test_the_worker_counts_max_requests_and_closes_its_connection_on_the_way_out(
    tmp_path: Path,
) -> None:
    sock = tmp_path / "g.sock"
    with gunicorn(tmp_path, f"unix:{sock}", APP, workers=1, max_requests=20,
                  max_requests_stagger=0):  # fmt: skip
        conn = UnixConnection(sock)
        answers = [get(conn) for _ in range(20)]
        assert len({body["pid"] for _, body in answers}) == 1, "one connection, one worker"
        closing = [n for n, (response, _) in enumerate(answers, 1)
                   if response.getheader("Connection") == "close"]  # fmt: skip
        assert closing == [20]
        conn.close()
        first = answers[0][1]["pid"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            _, body = get(UnixConnection(sock))
            if body["pid"] != first:
                break
            time.sleep(0.1)
        assert body["pid"] != first, "the worker was not recycled after max_requests"


def test_the_scheme_comes_from_x_forwarded_proto_only(tmp_path: Path) -> None:
    sock = tmp_path / "g.sock"
    with gunicorn(tmp_path, f"unix:{sock}", APP, workers=1):
        conn = UnixConnection(sock)
        assert get(conn, X_Forwarded_Proto="https")[1]["scheme"] == "https"
        assert get(conn)[1]["scheme"] == "http"
        assert get(conn, X_Forwarded_Proto="http")[1]["scheme"] == "http"
        # Other spellings and scheme headers Gunicorn trusts by default are not pyscale's.
        assert get(conn, X_Forwarded_Ssl="on")[1]["scheme"] == "http"
        assert get(conn, X_Forwarded_Protocol="ssl")[1]["scheme"] == "http"
        conn.sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_Proto: https\r\n\r\n"
        )  # an underscore spelling is dropped, never mapped onto the real header
        response = http.client.HTTPResponse(conn.sock)
        response.begin()
        assert json.loads(response.read())["scheme"] == "http"


def test_a_tcp_peer_outside_forwarded_allow_ips_cannot_set_the_scheme(tmp_path: Path) -> None:
    port = free_port()
    with gunicorn(tmp_path, f"127.0.0.1:{port}", APP, workers=1,
                  extra={"forwarded_allow_ips": '"192.0.2.1"'}):  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert get(conn, X_Forwarded_Proto="https")[1]["scheme"] == "http"
    with gunicorn(tmp_path / "trusted", f"127.0.0.1:{port}", APP, workers=1):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        assert get(conn, X_Forwarded_Proto="https")[1]["scheme"] == "https"


def test_an_idle_keep_alive_connection_is_closed_after_keepalive_seconds(tmp_path: Path) -> None:
    sock = tmp_path / "g.sock"
    with gunicorn(tmp_path, f"unix:{sock}", APP, workers=1, keepalive_s=1):
        conn = UnixConnection(sock)
        response, _ = get(conn)
        assert response.getheader("Connection") != "close"
        started = time.monotonic()
        conn.sock.settimeout(10)
        assert conn.sock.recv(1) == b"", "the server sent data on an idle connection"
        assert time.monotonic() - started < 5, "the idle connection outlived keepalive"


def test_gunicorns_request_limits_apply(tmp_path: Path) -> None:
    sock = tmp_path / "g.sock"
    with gunicorn(tmp_path, f"unix:{sock}", APP, workers=1):
        assert get(UnixConnection(sock), "/" + "a" * 4000)[0].status == 200
        assert get(UnixConnection(sock), "/" + "a" * 4100)[0].status == 400
        assert get(UnixConnection(sock), X_Big="b" * 8000)[0].status == 200
        assert get(UnixConnection(sock), X_Big="b" * 8200)[0].status == 400
        # Python's header parser (gevent's) counts the blank line against its 100: 99 fields
        # pass (with Host and Accept-Encoding), one more is refused, as over Gunicorn's 100.
        many = {f"X_H{n}": "v" for n in range(97)}
        assert get(UnixConnection(sock), **many)[0].status == 200
        many["X_H97"] = "v"
        assert get(UnixConnection(sock), **many)[0].status == 400
