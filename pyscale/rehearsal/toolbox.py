"""The node's own tools, at the node's versions, for files rendered on this machine.

A debian-13 node runs Nginx 1.26 and Python 3.13; this machine may have others (Debian 12:
Nginx 1.22, Python 3.11), and a file one version accepts another may refuse (`http2 on;`
is unknown before Nginx 1.25.1). `Toolbox.run` runs a command in the rehearsal's toolbox
image (Debian trixie, the debian-13 node's release), with the given host directories
mounted at the same paths, so rendered files are checked by the Nginx, gixy and Python the
node will run.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from pyscale.rehearsal import images, recipes, tls
from pyscale.rehearsal.boot import CACHE, STATE
from pyscale.rehearsal.podman import Podman

GIXY = "/opt/gixy/bin/gixy"


class Toolbox:
    """Runs commands in the toolbox image, building it on first use."""

    release = recipes.TOOLBOX_RELEASE

    def __init__(self, state: Path = STATE, cache: Path = CACHE) -> None:
        self.podman = Podman(state)
        self.image = images.build(self.podman, recipes.toolbox(tls.ca(cache)[0]))

    def run(
        self, *argv: str | Path, mounts: Sequence[Path] = (), network: bool = False,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """`argv` in a throwaway container; each of `mounts` at its own path, read-write."""
        volumes = [arg for path in mounts for arg in ("-v", f"{path}:{path}")]
        isolation = [] if network else ["--network", "none"]
        return self.podman.run(
            "run", "--rm", *isolation, *volumes, self.image, *(str(a) for a in argv),
            check=False, timeout=timeout,
        )  # fmt: skip
