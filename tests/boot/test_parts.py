"""The rehearsal's own parts: its shell scripts, the sysctl shim that stands in for
`sysctl --system` inside a container, and what it refuses to rehearse."""

import subprocess
from pathlib import Path

import pytest

from pyscale import settings
from pyscale.rehearsal import Rehearsal, sandbox
from pyscale.rehearsal.boot import NotRehearsable
from pyscale.rehearsal.services import SCRIPTS
from pyscale.rehearsal.toolbox import Toolbox

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.sh")))
def test_shellcheck_passes_the_service_scripts(script: str) -> None:
    result = subprocess.run(["shellcheck", "-s", "sh", SCRIPTS / script],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout


def test_shellcheck_passes_the_sysctl_shim(tmp_path: Path) -> None:
    shim = tmp_path / "sysctl"
    shim.write_text(sandbox.SYSCTL_SHIM)
    result = subprocess.run(["shellcheck", shim], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def shim_run(tmp_path: Path, conf: str, sysctls: dict[str, str]) -> subprocess.CompletedProcess:
    """The shim's `--system` in a container whose namespace holds `sysctls`."""
    (tmp_path / "sysctl.d").mkdir()
    (tmp_path / "sysctl.d/60-pyscale.conf").write_text(conf)
    (tmp_path / "sysctl").write_text(sandbox.SYSCTL_SHIM)
    toolbox = Toolbox()
    args = [a for key, value in sysctls.items() for a in ("--sysctl", f"{key}={value}")]
    return toolbox.podman.run(
        "run", "--rm", "--network", "none", *args,
        "-v", f"{tmp_path}/sysctl.d:/etc/sysctl.d:ro", "-v", f"{tmp_path}/sysctl:/shim:ro",
        toolbox.image, "sh", "-c", f"sh /shim --system; rc=$?; cat {sandbox.HOST_WIDE_SYSCTLS}; "
        "exit $rc", check=False,
    )  # fmt: skip


CONF = (
    "fs.file-max = 2097152\nnet.core.somaxconn = 4096\nnet.ipv4.ip_local_port_range = 1024 65535\n"
)


def test_the_shim_accepts_values_that_hold_and_records_host_wide_ones(tmp_path: Path) -> None:
    held = {"net.core.somaxconn": "4096", "net.ipv4.ip_local_port_range": "1024 65535"}
    result = shim_run(tmp_path, CONF, held)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fs.file-max=2097152" in result.stdout


def test_the_shim_fails_the_boot_when_a_namespaced_value_does_not_hold(tmp_path: Path) -> None:
    result = shim_run(tmp_path, CONF, {"net.core.somaxconn": "128"})
    assert result.returncode == 1
    assert "net.core.somaxconn is '128' here" in result.stderr


def test_an_os_this_machine_cannot_reproduce_is_refused_by_name() -> None:
    stack = settings.parse("prod", {"domain": "app.example.com", "nodeImage": "ubuntu-24.04"})
    with pytest.raises(NotRehearsable, match=r"pyscale:nodeImage = 'ubuntu-24.04'.*debian-13"):
        Rehearsal(stack)
