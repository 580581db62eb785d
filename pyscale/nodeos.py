"""The operating systems a node can boot, as pyscale renders for them and rehearses them.

A node's files depend on its OS's versions: Nginx's syntax (HTTP/2 is a `http2` directive
from 1.25.1, a `listen` parameter before it), the Python the lock must carry wheels for,
the glibc that bounds manylinux wheels. Each cloud's catalog maps the keys here to its own
image reference (a DigitalOcean slug, an OVHcloud image name); the stack chooses one with
`pyscale:nodeImage`.

Versions are the distributions' own (packages.debian.org, trixie 13.8 and bookworm 12.15,
2026-11; Ubuntu 24.04 noble).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeOS:
    """One node operating system and the versions pyscale's files depend on."""

    key: str  # the pyscale:nodeImage value
    title: str
    python: str  # the system Python the node's virtualenv is made from
    glibc: tuple[int, int]
    nginx: tuple[int, int, int]
    # The Debian release `pyscale node boot` builds its stand-in image from; None when this
    # machine cannot reproduce the OS (its archive is not reachable from here).
    debian_release: str | None

    @property
    def rehearsable(self) -> bool:
        return self.debian_release is not None

    @property
    def http2_directive(self) -> bool:
        """Nginx 1.25.1 made HTTP/2 a directive (`http2 on;`) and deprecated the listen flag."""
        return self.nginx >= (1, 25, 1)


DEFAULT = "debian-13"
SYSTEMS = {
    os.key: os
    for os in (
        NodeOS("debian-13", "Debian 13 (trixie)", "3.13", (2, 41), (1, 26, 3), "trixie"),
        NodeOS("debian-12", "Debian 12 (bookworm)", "3.11", (2, 36), (1, 22, 1), "bookworm"),
        NodeOS("ubuntu-24.04", "Ubuntu 24.04 (noble)", "3.12", (2, 39), (1, 24, 0), None),
    )
}


def get(key: str) -> NodeOS:
    return SYSTEMS[key]
