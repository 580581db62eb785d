"""The node's network namespace: its own loopback, its own kernel network tuning.

Kernel network sysctls (somaxconn, tcp_max_syn_backlog, ip_local_port_range, tcp_fin_timeout,
tcp_tw_reuse, keepalive) are per network namespace, so the node's planned values apply to
its namespace without touching the host. A veth pair with a private /30 that the node picks
itself lets the host reach the node; nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from pyscale.localnode.commands import NodeError, run_checked

# A /30 per namespace out of this block, chosen by the namespace name (then the next free).
VETH_BLOCK = ipaddress.ip_network("10.250.0.0/16")


def _ip(*args: str) -> str:
    return run_checked(["ip", *args], f"`ip {' '.join(args)}`")


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
        """The namespace `name` would get: a free /30 picked from the name's hash."""
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

    def create(self) -> None:
        """Create the namespace with loopback up and the veth pair addressed."""
        if namespace_exists(self.name):
            raise NodeError(
                f"network namespace {self.name} already exists: a node is up or was not "
                "stopped (run `pyscale node down --stack ...`)"
            )
        _ip("netns", "add", self.name)
        _ip("-n", self.name, "link", "set", "lo", "up")
        _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.node_if,
            "netns", self.name)  # fmt: skip
        _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        _ip("link", "set", self.host_if, "up")
        _ip("-n", self.name, "addr", "add", f"{self.node_ip}/30", "dev", self.node_if)
        _ip("-n", self.name, "link", "set", self.node_if, "up")

    def apply_sysctls(self, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """Set the namespaced keys inside it; return (applied, host-wide keys left alone).

        `net.*` keys are per namespace. `fs.*` (file-max, nr_open) are host-wide: a local
        run must not change them, and the derived plan already fits the host's values.
        """
        applied, skipped = {}, {}
        for key, value in values.items():
            if not key.startswith("net."):
                skipped[key] = value
                continue
            run_checked(self.exec("sysctl", "-w", f"{key}={value}"), f"sysctl in {self.name}")
            applied[key] = value
        return applied, skipped

    def read_sysctl(self, key: str) -> str:
        """A sysctl's value inside the namespace, whitespace collapsed ("1024 65535")."""
        out = run_checked(self.exec("sysctl", "-n", key), f"reading {key} in {self.name}")
        return " ".join(out.split())


def _host_addresses() -> set[str]:
    out = _ip("-4", "-o", "addr", "show")
    return {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}


def namespace_exists(name: str) -> bool:
    return any(
        line.split()[0] == name for line in _ip("netns", "list").splitlines() if line.strip()
    )


def delete_namespace(name: str) -> bool:
    """Delete the namespace (its veth end goes with it, and so the pair). False if absent."""
    if not namespace_exists(name):
        return False
    _ip("netns", "del", name)
    return True


def namespace_pids(name: str) -> list[int]:
    """Processes still inside the namespace (all ours: only the node starts processes there)."""
    if not namespace_exists(name):
        return []
    return [int(p) for p in _ip("netns", "pids", name).split()]
