"""Images the rehearsal runs, built here from Debian's archive and cached in podman's store.

`node`: what stands in for the cloud's image: a minimal Debian of the node's release with
systemd, cloud-init and openssh-server, nothing of pyscale's (the user-data installs that).
`services`: PostgreSQL, PgBouncer and Valkey from the same release, for the managed data
stores. A recipe's digest (release, packages, baked files) names the image, so a changed
recipe builds a new image and an unchanged one is built once per machine.

Built with debootstrap into a temporary directory, packages installed in a chroot, then
imported with `podman import` (no registry is reachable here, and none is needed).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pyscale.rehearsal import sandbox
from pyscale.rehearsal.podman import Podman

MIRROR = "http://deb.debian.org/debian"
# Keep package scripts from starting daemons inside the chroot (Debian policy-rc.d).
POLICY_RC_D = "#!/bin/sh\nexit 101\n"


class ImageError(RuntimeError):
    """An image could not be built; the message holds the failing step's output."""


@dataclass(frozen=True)
class BakedFile:
    """A file written into the image: a rehearsal-only difference, each said in `why`."""

    path: str
    content: str
    mode: int
    why: str


@dataclass(frozen=True)
class Recipe:
    """What an image holds; its digest names it."""

    name: str
    release: str
    packages: tuple[str, ...]
    files: tuple[BakedFile, ...] = ()
    cas: tuple[Path, ...] = ()  # certificates the image trusts besides Debian's
    setup: str = ""  # a shell script run in the image once its packages are in

    @property
    def digest(self) -> str:
        h = hashlib.sha256(
            f"{self.name}\0{self.release}\0{' '.join(self.packages)}\0{self.setup}".encode()
        )
        for baked in self.files:
            h.update(f"\0{baked.path}\0{baked.mode}\0{baked.content}".encode())
        for ca in self.cas:
            h.update(b"\0" + ca.read_bytes())
        return h.hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"localhost/pyscale-{self.name}:{self.release}-{self.digest}"


def _run(argv: Sequence[str], what: str, timeout: float = 900) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ImageError(f"{what} failed (exit {done.returncode}):\n"
                         f"{(done.stdout + done.stderr).strip()[-3000:]}")  # fmt: skip


def _chroot(root: Path, script: str, what: str) -> None:
    env = "export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8;"
    _run(["chroot", str(root), "/bin/sh", "-ec", env + script], what)


def build(podman: Podman, recipe: Recipe) -> str:
    """The recipe's image tag, building the image first when podman does not have it."""
    if podman.has_image(recipe.tag):
        return recipe.tag
    with tempfile.TemporaryDirectory(prefix=f"pyscale-{recipe.name}-") as tmp:
        root = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", "--include=ca-certificates", recipe.release,
              str(root), MIRROR], f"debootstrap {recipe.release}")  # fmt: skip
        (root / "usr/sbin/policy-rc.d").write_text(POLICY_RC_D)
        (root / "usr/sbin/policy-rc.d").chmod(0o755)
        _chroot(
            root,
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends "
            + " ".join(recipe.packages),
            f"apt-get install in the {recipe.name} image",
        )
        for ca in (*sandbox.egress_cas(), *recipe.cas):
            shutil.copy(ca, root / "usr/local/share/ca-certificates" / f"{ca.stem}.crt")
        for baked in recipe.files:
            target = root / baked.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(baked.content)
            target.chmod(baked.mode)
        _chroot(root, "update-ca-certificates >/dev/null", "trusting the CAs")
        if recipe.setup:
            _chroot(root, recipe.setup, f"setting up the {recipe.name} image")
        _chroot(
            root,
            "apt-get clean && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d",
            "image clean-up",
        )
        podman.import_rootfs(root, recipe.tag)
    return recipe.tag
