"""The Dockerfile, read: hadolint's rules, and what the image promises before it is built."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pyscale import capacity, settings
from pyscale.render import container

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DOCKERFILE = REPO / "Dockerfile"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_hadolint_passes() -> None:
    done = hadolint(DOCKERFILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_refuses_an_image_that_runs_as_root(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER root"))
    done = hadolint(broken)
    assert done.returncode != 0
    assert "DL3002" in done.stdout, done.stdout


def test_the_dockerfile_s_promises() -> None:
    text = DOCKERFILE.read_text()
    plan = capacity.plan(settings.load("dev", REPO))
    # A slim Python base by default, replaceable whole (tests/container builds from a local one).
    assert re.search(r"^ARG BASE=python:3\.\d+-slim\nFROM \$\{BASE\}$", text, re.MULTILINE)
    assert f"EXPOSE {container.PORT}\n" in text
    assert "STOPSIGNAL SIGTERM\n" in text
    # Gunicorn in exec form, with the configuration where compose and Kubernetes mount theirs.
    assert f'CMD ["gunicorn", "--config", "{container.CONF_PATH}"]\n' in text
    assert f"COPY compose/app/gunicorn.conf.py {container.CONF_PATH}\n" in text
    assert f"127.0.0.1:{container.PORT}{plan.load_balancer.health_check_path}" in text
    # The node's lock, as a node installs it.
    assert "--require-hashes" in text and "--only-binary :all:" in text
    assert "COPY deps/node.lock " in text
