"""Raw HTTP/1.1 exchanges with a local node's Nginx, for the edge tests: the request exactly
as written (smuggling attempts, forged headers, slow clients need that), the answer parsed
whole (status, every header, the body de-chunked).

Two vantage points: the host, which stands in for the load balancer (its veth address is
the node's private network), and a client on the internet, an address on the node
namespace's loopback outside every private network, which talks to the node directly.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass

from pyscale.localnode import NodeInfo

# A client on the internet, talking to the node itself (TEST-NET-1, on the node's loopback).
DIRECT = "192.0.2.10"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in the order sent
    body: bytes

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def header(self, name: str) -> str | None:
        """The header's one value; None when absent (AssertionError when sent twice)."""
        values = self.all(name)
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None


def request(
    method: str, path: str, host: str, *headers: tuple[str, str], body: bytes = b""
) -> bytes:
    """A request that closes its connection, with `headers` as given (repeats allowed)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _body_length(headers: tuple[tuple[str, str], ...], rest: bytes) -> int | None:
    """Bytes after the head that make the whole body: by Content-Length, or up to the end
    of the last chunk; None while a chunked body is not complete."""
    if ("transfer-encoding", "chunked") in headers:
        at = 0
        while (end := rest.find(b"\r\n", at)) != -1:
            size = int(rest[at:end].split(b";")[0], 16)
            if size == 0:
                return end + 4 if len(rest) >= end + 4 else None
            at = end + 2 + size + 2
        return None
    return next((int(v) for k, v in headers if k == "content-length"), 0)


def parse(data: bytes) -> Answer:
    """One whole response: its head, then a body by Content-Length or chunked."""
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = tuple(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in lines[1:])
    )
    if ("transfer-encoding", "chunked") not in headers:
        return Answer(status, headers, rest[: _body_length(headers, rest)])
    body = b""
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return Answer(status, headers, body)
        body, rest = body + rest[:size], rest[size + 2 :]


def read_answer(sock: socket.socket) -> bytes:
    """Bytes from `sock` until one whole response is in (not until the server closes: after
    some errors Nginx lingers, reading what the client might still send)."""
    data = b""
    while True:
        head, found, rest = data.partition(b"\r\n\r\n")
        if found:
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = tuple(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in lines)
            )
            length = _body_length(headers, rest)
            if length is not None and len(rest) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def exchange(node: NodeInfo, raw: bytes, timeout: float = 10) -> Answer:
    """`raw` sent from the host (the load balancer's side), one whole answer read."""
    with socket.create_connection((node.namespace.node_ip, 80), timeout=timeout) as sock:
        sock.sendall(raw)
        return parse(read_answer(sock))


# Runs in the namespace: each request on its own connection (Connection: close, so an
# answer ends when Nginx closes), one after the other, the answers as hex lines.
DIRECT_CLIENT = """
import socket, sys
source, ip, raws = sys.argv[1], sys.argv[2], sys.argv[3:]
for raw in raws:
    with socket.create_connection((ip, 80), timeout=10, source_address=(source, 0)) as s:
        s.sendall(bytes.fromhex(raw))
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    print(answer.hex())
"""


def add_direct_address(node: NodeInfo) -> None:
    """Put DIRECT on the node namespace's loopback, so requests can come from it."""
    subprocess.run(
        node.namespace.exec("ip", "addr", "add", f"{DIRECT}/32", "dev", "lo"), check=True
    )


def direct_exchanges(node: NodeInfo, raws: list[bytes]) -> list[Answer]:
    """Each of `raws` sent by a client on the internet, straight to the node
    (add_direct_address), back to back from one process."""
    argv = node.namespace.exec(
        sys.executable,
        "-c",
        DIRECT_CLIENT,
        DIRECT,
        node.namespace.node_ip,
        *(r.hex() for r in raws),
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout
    return [parse(bytes.fromhex(line)) for line in out.split()]


def direct_exchange(node: NodeInfo, raw: bytes) -> Answer:
    return direct_exchanges(node, [raw])[0]
