"""The Debian packages the local node runs, installed with apt when one is missing.

deps/apt.txt lists them for `make deps` and CI; this check lets `node up` work on a fresh
machine too, and installs only what is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from components.localnode.procs import NodeError

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


def missing() -> list[str]:
    """Packages whose programs are not installed (PostgreSQL's server is found by path)."""
    wanted = sorted({pkg for prog, pkg in PROGRAMS.items() if shutil.which(prog) is None})
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        wanted.append("postgresql")
    return wanted


def ensure() -> None:
    """apt-get install what is missing; NodeError when apt fails."""
    wanted = missing()
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
