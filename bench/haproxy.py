"""The rollout rehearsal's load balancer and cloud: HAProxy from Debian with HTTP health
checks on the node's /healthz, and a loopback stand-in for DigitalOcean's API that answers
from HAProxy's own view of its servers.

HAProxy gets a fixed set of server slots (server-template), disabled until a node takes
one through the runtime API (`set server ... addr`, `state ready`), like a droplet that
gets the web tag. It retries nothing (`retries 0`, no redispatch): a request that fails on
a node fails the client, so the rehearsal's error count is the nodes' and the drain's, not
hidden by the balancer.

The stand-in answers the three calls the rollout gate makes (pyscale/clouds/digitalocean/
rollout.py): the droplets' health-check metric (100 for a server HAProxy has UP, 0 else),
a droplet's status, and the `shutdown` action, which drains the local node as a droplet's
ACPI shutdown drains a cloud node (LocalNode.drain, the order pyscale-drain.service and the
units' stop settings give it).
"""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pyscale.localnode import LocalNode, NodeError, wait_until
from pyscale.rollout import HealthCheckTiming

SLOTS = 8
BACKEND = "web"


def config(port: int, socket_path: Path, host: str, health: HealthCheckTiming) -> str:
    """haproxy.cfg: one frontend on loopback, one backend of SLOTS disabled slots."""
    inter = f"{health.interval_s}s"
    return f"""global
    stats socket {socket_path} mode 600 level admin
    maxconn 4096

defaults
    mode http
    retries 0
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check {health.timeout_s}s

frontend rehearsal
    bind 127.0.0.1:{port}
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host {host}
    http-check expect status 200
    default-server inter {inter} fastinter {inter} downinter {inter} rise {health.healthy_threshold} fall {health.unhealthy_threshold}
    server-template s 1-{SLOTS} 127.0.0.2:80 check disabled
"""  # noqa: E501


class HAProxy:
    """HAProxy in the foreground, driven through its admin socket."""

    def __init__(self, state: Path, host: str, health: HealthCheckTiming) -> None:
        self.state, self.socket = state, state / "haproxy.sock"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        state.mkdir(parents=True, exist_ok=True)
        cfg = state / "haproxy.cfg"
        cfg.write_text(config(self.port, self.socket, host, health))
        subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True)
        log = (state / "haproxy.log").open("ab")
        self.proc = subprocess.Popen(
            ["haproxy", "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT
        )
        wait_until(self.socket.exists, "HAProxy's admin socket", 10, 0.05)

    def admin(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(self.socket))
            conn.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def add(self, slot: int, address: str) -> None:
        """Put a node into slot `slot`, marked down: it serves once `rise` checks pass, as
        a cloud load balancer admits a new backend (HAProxy would otherwise take a server
        leaving maintenance for up until its checks fail). Ready and down in one admin
        line, so no request finds it up in between."""
        server = f"{BACKEND}/s{slot}"
        for command in (
            f"set server {server} addr {address} port 80",
            f"set server {server} state ready; set server {server} health down",
        ):
            answer = self.admin(command).strip()
            if answer and "changed" not in answer:
                raise NodeError(f"haproxy: {command}: {answer}")

    def remove(self, slot: int) -> None:
        self.admin(f"set server {BACKEND}/s{slot} state maint")

    def states(self) -> dict[int, str]:
        """Slot -> HAProxy's status (UP, DOWN, MAINT, "UP 1/3" while going down...)."""
        text = self.admin("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            int(row["svname"][1:]): row["status"]
            for row in rows
            if row["pxname"] == BACKEND and re.fullmatch(r"s\d+", row["svname"] or "")
        }

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Droplet:
    """A local node standing in for a droplet: its HAProxy slot and its status."""

    id: str
    name: str
    slot: int
    node: LocalNode
    status: str = "active"


@dataclass
class StandInApi:
    """DigitalOcean's API, the three calls the gate makes, on loopback."""

    balancer: HAProxy
    drain: Callable[[Droplet], None]  # what a `shutdown` action does to the node
    droplets: dict[str, Droplet] = field(default_factory=dict)

    def start(self) -> str:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path.endswith("/droplets_health_checks"):
                    lb = parse_qs(url.query).get("lb_id", [""])[0]
                    self._answer(200, api.health(lb))
                elif (d := api.droplets.get(url.path.rpartition("/")[2])) is not None:
                    self._answer(200, {"droplet": {"id": int(d.id), "status": d.status}})
                else:
                    self._answer(404, {"id": "not_found", "message": "not found"})

            def do_POST(self) -> None:
                parts = urlsplit(self.path).path.split("/")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                droplet = api.droplets.get(parts[-2]) if parts[-1] == "actions" else None
                if droplet is None or body.get("type") != "shutdown":
                    self._answer(404, {"id": "not_found", "message": "not found"})
                    return
                threading.Thread(target=api._shutdown, args=(droplet,), daemon=True).start()
                self._answer(201, {"action": {"type": "shutdown", "status": "in-progress"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _shutdown(self, droplet: Droplet) -> None:
        self.drain(droplet)
        droplet.status = "off"

    def health(self, lb: str) -> dict:
        """The metric as a Prometheus matrix, one series per droplet HAProxy knows."""
        states, now = self.balancer.states(), time.time()
        result = [
            {
                "metric": {"lb_id": lb, "droplet_id": d.id, "server": d.name},
                "values": [[now, "100" if states.get(d.slot, "").startswith("UP") else "0"]],
            }
            for d in self.droplets.values()
            if d.slot in states and not states[d.slot].startswith("MAINT")
        ]
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    def stop(self) -> None:
        self.server.shutdown()
