"""This machine, as the local node sees it: what it grants (cores, memory, descriptors) and
what it must have before a node runs (root, the Debian packages of the programs it starts).

deps/apt.txt lists the packages for `make deps` and CI; `prepare` lets `node up` and the
benchmark work on a fresh machine too, and installs only what is absent.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from pyscale import capacity
from pyscale.localnode.commands import NodeError, run_checked
from pyscale.render.cloudinit import BROTLI_PACKAGES

# Program the node runs -> the Debian package that ships it.
PROGRAMS = {
    "nginx": "nginx",
    "pgbouncer": "pgbouncer",
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    "ip": "iproute2",
    "setpriv": "util-linux",
    "sysctl": "procps",
    "pg_isready": "postgresql-client",
    "wrk": "wrk",
    # The rollout rehearsal's load balancer (bench/rollout.py).
    "haproxy": "haproxy",
}
# What only the backing services (PostgreSQL, PgBouncer, Redis) need: a node started without
# them (`node up --no-services`, `bench node --no-services`) runs without these installed.
SERVICE_PROGRAMS = frozenset({"pgbouncer", "redis-server", "redis-cli", "setpriv", "pg_isready"})
POSTGRESQL_SERVERS = Path("/usr/lib/postgresql")  # Debian: <version>/bin/postgres
# Where Debian's libnginx-mod-* packages put their load_module line (mod-<name>.conf): the
# rendered nginx.conf loads what /etc/nginx/modules-enabled/ links from here.
NGINX_MODULES_AVAILABLE = Path("/usr/share/nginx/modules-available")


class NeedsRoot(NodeError):
    """Not run as root: a usage error (exit 2), not a failed step."""


@dataclass(frozen=True)
class Machine:
    """What this machine can grant a node: the inputs of the local plan's derivation."""

    cpus: int
    memory_gib: int
    nofile_ceiling: int  # the hard per-process descriptor limit, at most Linux's nr_open

    @classmethod
    def here(cls) -> Machine:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        ceiling = capacity.LINUX_NR_OPEN if hard == resource.RLIM_INFINITY else hard
        return cls(os.cpu_count() or 1, _memory_gib(), min(ceiling, capacity.LINUX_NR_OPEN))


def _memory_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // (1024 * 1024)
    raise NodeError("cannot read MemTotal from /proc/meminfo")


def missing_packages(services: bool = True) -> list[str]:
    """Packages whose programs are not installed (PostgreSQL's server is found by path).

    `services=False`: only what a node without its backing services runs."""
    wanted = sorted(
        {
            pkg
            for prog, pkg in PROGRAMS.items()
            if (services or prog not in SERVICE_PROGRAMS) and shutil.which(prog) is None
        }
    )
    if services and not list(POSTGRESQL_SERVERS.glob("*/bin/postgres")):
        wanted.append("postgresql")
    # The Nginx modules a node installs with edge.brotli (its default), so that a stack
    # with it runs here as on the node.
    for package in BROTLI_PACKAGES:
        if not (NGINX_MODULES_AVAILABLE / f"{package.removeprefix('libnginx-')}.conf").exists():
            wanted.append(package)
    return wanted


def require_root(what: str) -> None:
    """NeedsRoot unless this process is root: `what` (the local node, the benchmark) creates
    network namespaces, sets their sysctls and drops privileges for its services."""
    if os.geteuid() != 0:
        raise NeedsRoot(f"{what} needs root (network namespaces, sysctls)")


def prepare(what: str, services: bool = True) -> None:
    """What every run of a node does first: require root, then apt-get install the packages
    it is missing (`services=False`: none of the backing services'). NodeError if apt fails."""
    require_root(what)
    wanted = missing_packages(services)
    if not wanted:
        return
    sys.stderr.write(f"installing Debian packages: {' '.join(wanted)}\n")
    run_checked(["apt-get", "update", "-q"], "apt-get update", timeout=600)
    run_checked(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *wanted],
        "apt-get install",
        timeout=1200,
    )
