"""The container path, built and run for real with Debian's podman (rootful, runc, cgroupfs,
descriptor limits within this machine's: shared/findings/containers.md).

No registry is reachable here, so the Dockerfile's base (python:3.13-slim elsewhere) is a
Debian trixie with Python 3.13 made by debootstrap (pyscale.rehearsal.images: built once per
machine, then found in podman's store), passed as `--build-arg BASE`; nothing else about the
build changes. The image is built once per session (podman's layer cache makes a rebuild of
an unchanged tree a few seconds).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from pyscale.rehearsal import images
from pyscale.rehearsal.podman import Podman

REPO = Path(__file__).resolve().parents[2]
STATE = Path(tempfile.gettempdir()) / "pyscale-container"
# python:3.13-slim's stand-in: Debian trixie's Python 3.13 with venv (the image's only need).
BASE = images.Recipe(name="python", release="trixie", packages=("python3", "python3-venv"))
APP_IMAGE = "localhost/pyscale-demo:test"
# pip inside the build trusts this machine's CA bundle (a TLS-inspecting proxy): the
# Dockerfile's optional secret.
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture(scope="session")
def podman() -> Podman:
    return Podman(STATE)


@pytest.fixture(scope="session")
def base_image(podman: Podman) -> str:
    return images.build(podman, BASE)


@pytest.fixture(scope="session")
def app_image(podman: Podman, base_image: str) -> str:
    """The Dockerfile, built from the repository as it is (docker format: it keeps
    HEALTHCHECK, which OCI images drop)."""
    podman.run(
        "build", "--format", "docker", "--network", "host",
        "--secret", f"id=ca,src={CA_BUNDLE}", "--build-arg", f"BASE={base_image}",
        "-f", str(REPO / "Dockerfile"), "-t", APP_IMAGE, str(REPO),
        timeout=600,
    )  # fmt: skip
    return APP_IMAGE
