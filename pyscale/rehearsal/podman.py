"""Podman, as the rehearsal drives it: rootful, runc, cgroupfs, descriptor limits within the
host's hard limit (shared/findings/containers.md). One `Podman` per state directory writes
its containers.conf there, so nothing outside the rehearsal's own files is configured."""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Debian's crun refuses this machine's hybrid cgroup layout; runc with cgroupfs works.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
"""


class PodmanError(RuntimeError):
    """A podman command failed; the message holds the command and its output."""


def host_nofile() -> int:
    """The hard descriptor limit of this process: no container can be given more."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1_048_576 if hard == resource.RLIM_INFINITY else hard


@dataclass(frozen=True)
class Podman:
    """Runs podman with the rehearsal's containers.conf (written under `state`)."""

    state: Path

    @property
    def conf(self) -> Path:
        return self.state / "containers.conf"

    def env(self) -> dict[str, str]:
        """The environment podman runs with: this rehearsal's containers.conf."""
        self.state.mkdir(parents=True, exist_ok=True)
        if not self.conf.exists():
            self.conf.write_text(CONTAINERS_CONF.format(nofile=host_nofile()))
        return {"CONTAINERS_CONF": str(self.conf), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def run(
        self, *args: str, check: bool = True, timeout: float = 600, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["podman", *args], capture_output=True, env=self.env(), timeout=timeout,
            input=stdin, check=False,
        )  # fmt: skip
        result = subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(errors="replace"),
            done.stderr.decode(errors="replace"),
        )  # fmt: skip
        if check and result.returncode != 0:
            raise PodmanError(
                f"podman {' '.join(args[:3])} ... failed (exit {result.returncode}):\n"
                f"{(result.stdout + result.stderr).strip()[-3000:]}"
            )
        return result

    def exec(self, container: str, *argv: str, check: bool = True, timeout: float = 120) -> str:
        """Run `argv` inside a running container; its stdout."""
        return self.run("exec", container, *argv, check=check, timeout=timeout).stdout

    def import_rootfs(self, root: Path, tag: str) -> None:
        """A directory tree as an image (`podman import` of its tar stream)."""
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["podman", "import", "-", tag], stdin=tar.stdout, capture_output=True,
            env=self.env(), check=False, timeout=600,
        )  # fmt: skip
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise PodmanError(f"podman import of {root} as {tag} failed:\n"
                              f"{imported.stderr.decode(errors='replace')[-3000:]}")  # fmt: skip

    def has_image(self, tag: str) -> bool:
        return self.run("image", "exists", tag, check=False).returncode == 0

    def inspect(self, name: str) -> dict:
        return json.loads(self.run("inspect", name).stdout)[0]

    def remove(self, names: Sequence[str]) -> None:
        """Remove containers (running or not); absent ones are fine."""
        if names:
            self.run("rm", "--force", "--ignore", *names, check=False)

    def network(self, name: str, subnet: str, gateway: str) -> None:
        """A bridge network on `subnet`, recreated if it exists."""
        self.run("network", "rm", "--force", name, check=False)
        self.run("network", "create", "--subnet", subnet, "--gateway", gateway, name)

    def remove_network(self, name: str) -> None:
        self.run("network", "rm", "--force", name, check=False)
