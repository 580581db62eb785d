"""The node's Python environment, locked: every package pinned, each with the hash of the
one wheel each target Python installs.

`deps/node.in` names what a node runs (Gunicorn with its `gevent` extra, gevent, the demo
app's database and cache clients); `deps/node.lock` is the complete closure, resolved for
every Python in TARGETS and installed on the node with `pip --require-hashes`, so a missing
or drifted dependency fails the install here (tests/render/test_node_lock.py) and not on a
node. Hashes are limited to the wheel pip would choose on each target (its most specific
compatible tag): the lock travels inside the user-data, which OVHcloud caps at 48 KiB, and a
full hash list for gevent, greenlet and zope.interface alone is over 10 KiB.

`pyscale lock` regenerates the lock (network: PyPI); resolution is uv's, which evaluates
environment markers for the target Python, not the one it runs on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from pyscale import nodeos
from pyscale.render.cloudinit import REPO

NODE_IN = REPO / "deps" / "node.in"
INDEX = "https://pypi.org/simple"
# uv's platform for resolution: markers see a glibc Linux on x86_64, as on every node.
UV_PLATFORM = "x86_64-manylinux_2_28"


@dataclass(frozen=True)
class Target:
    """A Python that installs the lock: its version, and the glibc that bounds manylinux."""

    python: str  # "3.12"
    glibc: tuple[int, int]
    where: str

    @property
    def tags(self) -> list[Tag]:
        """Wheel tags this Python accepts, most specific first (pip's preference order)."""
        major, minor = (int(p) for p in self.python.split("."))
        platforms = [f"manylinux_2_{m}_x86_64" for m in range(self.glibc[1], 4, -1)]
        # The legacy aliases of manylinux_2_17, _2_12 and _2_5 (PEP 600).
        platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
        version = (major, minor)
        return [
            *cpython_tags(version, abis=[f"cp{major}{minor}"], platforms=platforms),
            *compatible_tags(version, f"cp{major}{minor}", platforms),
        ]


# These machines (Debian 12), where tests/node and bench/ run the node's packages.
DEVELOPMENT = Target("3.11", (2, 36), "tests and bench on Debian 12")


def targets() -> tuple[Target, ...]:
    """One target per Python: every node OS (pyscale/nodeos.py) and the development machines;
    where two share a Python, the older glibc bounds the wheels, so one wheel suits both."""
    by_python: dict[str, list[Target]] = {}
    for os in nodeos.SYSTEMS.values():
        by_python.setdefault(os.python, []).append(Target(os.python, os.glibc, f"node: {os.title}"))
    by_python.setdefault(DEVELOPMENT.python, []).append(DEVELOPMENT)
    return tuple(
        Target(python, min(t.glibc for t in group), "; ".join(t.where for t in group))
        for python, group in sorted(by_python.items(), reverse=True)
    )


TARGETS = targets()


@dataclass(frozen=True)
class Pin:
    """One locked package: its version, the hashes of its wheels, the Pythons that need it."""

    name: str
    version: str
    hashes: tuple[str, ...]
    pythons: tuple[str, ...]

    def line(self, all_pythons: Iterable[str]) -> str:
        marker = ""
        if set(self.pythons) != set(all_pythons):
            marker = " ; " + " or ".join(f'python_version == "{p}"' for p in self.pythons)
        hashes = "".join(f" \\\n    --hash=sha256:{h}" for h in self.hashes)
        return f"{self.name}=={self.version}{marker}{hashes}\n"


def resolve(target: Target, requirements: Path = NODE_IN) -> dict[str, str]:
    """Package -> version for `target`, resolved by uv from PyPI, wheels only."""
    done = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", str(requirements), "--quiet",
         "--no-header", "--no-annotate", "--only-binary", ":all:", "--index-url", INDEX,
         "--python-version", target.python, "--python-platform", UV_PLATFORM],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"uv could not resolve {requirements} for {target.python}:\n"
                           f"{done.stderr.strip()}")  # fmt: skip
    pins = {}
    for line in done.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _files(name: str) -> list[dict]:
    request = urllib.request.Request(
        f"{INDEX}/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["files"]


def best_wheel(files: list[dict], name: str, version: str, target: Target) -> dict:
    """The wheel pip would install on `target`: the first of its tags any wheel carries."""
    wheels = {}
    for entry in files:
        filename = entry["filename"]
        if not filename.endswith(".whl") or entry.get("yanked"):
            continue
        wheel_name, wheel_version, _, tags = parse_wheel_filename(filename)
        if canonicalize_name(wheel_name) == name and str(wheel_version) == version:
            for tag in tags:
                wheels.setdefault(tag, entry)
    for tag in target.tags:
        if tag in wheels:
            return wheels[tag]
    raise RuntimeError(f"{name}=={version} has no wheel for Python {target.python} "
                       f"({target.where})")  # fmt: skip


def lock(targets: Iterable[Target] = TARGETS, requirements: Path = NODE_IN) -> list[Pin]:
    """Resolve for each target and merge: one version per package across targets."""
    targets = tuple(targets)
    resolved = {t.python: resolve(t, requirements) for t in targets}
    pins = []
    for name in sorted({n for r in resolved.values() for n in r}):
        versions = {r[name] for r in resolved.values() if name in r}
        if len(versions) > 1:
            raise RuntimeError(f"{name} resolves to {sorted(versions)} on different Pythons; "
                               f"pin one version in {requirements.name}")  # fmt: skip
        version = versions.pop()
        files = _files(name)
        users = [t for t in targets if name in resolved[t.python]]
        hashes = {best_wheel(files, name, version, t)["hashes"]["sha256"] for t in users}
        pins.append(Pin(name, version, tuple(sorted(hashes)), tuple(t.python for t in users)))
    return pins


def render(pins: Iterable[Pin], targets: Iterable[Target] = TARGETS) -> str:
    targets = tuple(targets)
    header = [
        "# The node's Python environment, every package pinned with the hash of the wheel each",
        "# target Python installs (`pip install --require-hashes -r`). Generated from",
        "# deps/node.in by `pyscale lock`: do not edit by hand.",
        *(f"#   Python {t.python}: {t.where}" for t in targets),
    ]
    pythons = [t.python for t in targets]
    return "\n".join(header) + "\n" + "".join(pin.line(pythons) for pin in pins)
