"""The Debian packages the local node runs, installed with apt when one is missing.

deps/apt.txt lists them for `make deps` and CI; this check lets `node up` work on a fresh
machine too, and installs only what is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pyscale.localnode.procs import NodeError

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
}
# What only the backing services (PostgreSQL, PgBouncer, Redis) need: a node started without
# them (`node up --no-services`, `bench.node --no-services`) runs without these installed.
SERVICE_PROGRAMS = frozenset({"pgbouncer", "redis-server", "redis-cli", "setpriv", "pg_isready"})


def missing(services: bool = True) -> list[str]:
    """Packages whose programs are not installed (PostgreSQL's server is found by path).

    `services=False`: only what a node without its backing services runs."""
    wanted = sorted(
        {
            pkg
            for prog, pkg in PROGRAMS.items()
            if (services or prog not in SERVICE_PROGRAMS) and shutil.which(prog) is None
        }
    )
    if services and not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        wanted.append("postgresql")
    return wanted


def ensure(services: bool = True) -> None:
    """apt-get install what is missing; NodeError when apt fails."""
    wanted = missing(services)
    if not wanted:
        return
    sys.stderr.write(f"installing Debian packages: {' '.join(wanted)}\n")
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *wanted],
    ):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise NodeError(f"{' '.join(argv)} failed:\n{done.stderr.strip()[-2000:]}")
