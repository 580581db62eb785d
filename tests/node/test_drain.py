"""A node leaving as a cloud node does on shutdown (LocalNode.drain, the order and numbers
pyscale-drain.service and the units' stop settings give it): /healthz fails first while
the node still serves, requests in flight when it stops finish with 200, and once Nginx has
stopped no new connection is accepted."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.node.conftest import DOMAIN, local_node

DETECT_S = 2.0
FINISH_S = 10.0
IN_FLIGHT_MS = 4000


def get(ip: str, path: str, timeout: float = 15) -> int:
    request = urllib.request.Request(f"http://{ip}{path}", headers={"Host": DOMAIN})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def refuses(ip: str) -> bool:
    try:
        socket.create_connection((ip, 80), timeout=2).close()
    except OSError:
        return True
    return False


def test_drain_fails_health_first_finishes_in_flight_then_refuses(tmp_path: Path) -> None:
    with local_node(tmp_path, name="drain", services=False) as (node, info):
        ip = info.namespace.node_ip
        assert get(ip, "/healthz") == 200
        events: dict[str, float] = {}
        drained = threading.Thread(
            target=node.drain,
            args=(DETECT_S, FINISH_S, lambda e: events.setdefault(e, time.monotonic())),
        )
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Requests that will still be running when Nginx is told to stop.
            in_flight = [pool.submit(get, ip, f"/io?ms={IN_FLIGHT_MS}") for _ in range(8)]
            time.sleep(0.5)
            drained.start()
            time.sleep(0.5)
            # Detection window: the load balancer is told to go, the node still serves.
            assert get(ip, "/healthz") == 503
            assert get(ip, "/io?ms=0") == 200
            assert [f.result() for f in in_flight] == [200] * 8
        drained.join(timeout=FINISH_S + 30)
        assert not drained.is_alive()
        assert list(events) == ["draining", "nginx stopping", "stopped"]
        assert events["nginx stopping"] - events["draining"] >= DETECT_S
        assert refuses(ip)
