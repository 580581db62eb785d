"""The node's network namespace: its own loopback, its own kernel network tuning.

Kernel network sysctls (somaxconn, tcp_max_syn_backlog, ip_local_port_range, tcp_fin_timeout,
tcp_tw_reuse, keepalive) are per network namespace, so the node's rendered values apply to
its namespace without touching the host. A veth pair with a private /30 that the node picks
itself lets the host reach the node; nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess
from dataclasses import dataclass

from pyscale.localnode.procs import NodeError

# A /30 per namespace out of this block, chosen by the namespace name (then the next free).
VETH_BLOCK = ipaddress.ip_network("10.250.0.0/16")


@dataclass(frozen=True)
class Namespace:
    """A namespace, its veth pair and the addresses on each end."""

    name: str
    host_if: str
    node_if: str
    host_ip: str
    node_ip: str

    @classmethod
    def for_name(cls, name: str) -> Namespace:
        digest = hashlib.sha256(name.encode()).hexdigest()
        subnets = list(VETH_BLOCK.subnets(new_prefix=30))
        used = _host_addresses()
        start = int(digest[:8], 16) % len(subnets)
        for offset in range(len(subnets)):
            subnet = subnets[(start + offset) % len(subnets)]
            host, node = list(subnet.hosts())
            if str(host) not in used and str(node) not in used:
                break
        else:
            raise NodeError(f"no free /30 left in {VETH_BLOCK} for the node's veth pair")
        # Interface names are at most 15 bytes.
        return cls(name, f"pys{digest[:8]}h", f"pys{digest[:8]}n", str(host), str(node))

    def exec(self, *argv: str) -> list[str]:
        """The command line that runs `argv` inside this namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


def _host_addresses() -> set[str]:
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}


def exists(name: str) -> bool:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return any(line.split()[0] == name for line in out.stdout.splitlines() if line.strip())


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NodeError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")


def create(ns: Namespace) -> None:
    """Create the namespace with loopback up and the veth pair addressed."""
    if exists(ns.name):
        raise NodeError(
            f"network namespace {ns.name} already exists: a node is up or was not stopped "
            "(run `pyscale node down --stack ...`)"
        )
    _ip("netns", "add", ns.name)
    _ip("-n", ns.name, "link", "set", "lo", "up")
    _ip("link", "add", ns.host_if, "type", "veth", "peer", "name", ns.node_if, "netns", ns.name)
    _ip("addr", "add", f"{ns.host_ip}/30", "dev", ns.host_if)
    _ip("link", "set", ns.host_if, "up")
    _ip("-n", ns.name, "addr", "add", f"{ns.node_ip}/30", "dev", ns.node_if)
    _ip("-n", ns.name, "link", "set", ns.node_if, "up")


def delete(name: str) -> bool:
    """Delete the namespace (its veth end goes with it, and so the pair). False if absent."""
    if not exists(name):
        return False
    _ip("netns", "del", name)
    return True


def pids(name: str) -> list[int]:
    """Processes still inside the namespace (all ours: only the node starts processes there)."""
    if not exists(name):
        return []
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def apply_sysctls(ns: Namespace, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Set the namespaced keys inside `ns`; return (applied, host-wide keys left alone).

    `net.*` keys are per namespace. `fs.*` (file-max, nr_open) are host-wide: a local run
    must not change them, and the derived plan already fits the host's values.
    """
    applied, skipped = {}, {}
    for key, value in values.items():
        if not key.startswith("net."):
            skipped[key] = value
            continue
        done = subprocess.run(
            ns.exec("sysctl", "-w", f"{key}={value}"), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise NodeError(f"sysctl {key}={value} in {ns.name} failed: {done.stderr.strip()}")
        applied[key] = value
    return applied, skipped


def read_sysctl(ns: Namespace, key: str) -> str:
    done = subprocess.run(ns.exec("sysctl", "-n", key), capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())
