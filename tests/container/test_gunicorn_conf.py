"""Gunicorn's container configuration (pyscale/render/container.py): loaded by Gunicorn with
the demo app, the plan's numbers, TCP instead of the node's sockets, and the descriptor
check, run against real limits."""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from pyscale import capacity, render, settings
from pyscale.render import compose, container
from tests.render.gunicorn_run import assert_plan_numbers, printed_settings

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
MODULES = REPO / "cloud-init/files/etc/pyscale"
STACKS = ("dev", "staging", "prod", "prod-ovh")


def rendered(stack: str) -> tuple[settings.Settings, capacity.CapacityPlan, str]:
    s = compose.compose_settings(settings.load(stack, REPO))
    plan = capacity.plan(s)
    return s, plan, container.gunicorn_conf(plan, s, forwarded_allow_ips=s.vpc_cidr)


def gunicorn(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The image's layout: the modules on Gunicorn's pythonpath, the app in the working dir.
    env = os.environ | {"PYTHONPATH": f"{MODULES}:{REPO / 'app'}"}
    return subprocess.run(
        [str(VENV_BIN / "gunicorn"), *args, "--config", str(config)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_gunicorn_loads_the_container_configuration(stack: str, tmp_path: Path) -> None:
    s, plan, text = rendered(stack)
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(text)
    checked = gunicorn(config, "--check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = gunicorn(config, "--print-config")
    assert printed.returncode == 0, printed.stderr
    seen = printed_settings(printed.stdout)
    g = plan.gunicorn
    assert_plan_numbers(seen, g)
    assert seen["bind"] == f"['0.0.0.0:{container.PORT}']"
    assert seen["control_socket_disable"] == "True"
    assert seen["worker_tmp_dir"] == "/dev/shm"
    assert seen["pythonpath"] == container.MODULES_DIR
    assert seen["forwarded_allow_ips"] == f"['{s.vpc_cidr}']"
    assert seen["errorlog"] == "-"
    assert f"max_requests_stagger = {g.max_requests_stagger}\n" in text
    assert f"limit_nofile = {g.limit_nofile}\n" in text
    assert f'metrics_dir = "{container.METRICS_DIR}"' in text
    # Nothing of the node's: no unix socket, umask or path under /run.
    assert "/run/" not in text and "umask" not in text and "unix:" not in text


def test_the_vm_configuration_is_the_node_s_own() -> None:
    """The template's container values never leak into a node's file."""
    s = settings.load("prod", REPO)
    plan = capacity.plan(s)
    node = render.node(plan, s, render.placeholder_secrets(plan))
    text = node.file("/etc/pyscale/gunicorn.conf.py").content
    assert 'bind = "unix:/run/pyscale/gunicorn.sock"' in text
    assert 'pythonpath = "/etc/pyscale/"' in text
    assert "resource" not in text and "0.0.0.0" not in text and "limit_nofile" not in text


def test_a_bad_forwarded_network_is_refused() -> None:
    s, plan, _ = rendered("dev")
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33'"):
        container.gunicorn_conf(plan, s, forwarded_allow_ips="10.0.0.0/33")
    assert 'forwarded_allow_ips = "*"' in container.gunicorn_conf(plan, s, forwarded_allow_ips="*")


CHECK = """\
import resource, runpy, sys
conf = runpy.run_path(sys.argv[1])
print(conf["raise_nofile"](), *resource.getrlimit(resource.RLIMIT_NOFILE))
"""


def check_nofile(config: Path, soft: int, hard: int) -> subprocess.CompletedProcess[str]:
    """The configuration's descriptor check, in a process started with `soft`:`hard`."""
    return subprocess.run(
        [sys.executable, "-c", CHECK, str(config)],
        capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
    )  # fmt: skip


def test_the_descriptor_check_raises_the_soft_limit(tmp_path: Path) -> None:
    s, plan, _ = rendered("dev")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    fits = dataclasses.replace(plan.gunicorn, limit_nofile=2048)
    small = dataclasses.replace(plan, gunicorn=fits)
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(container.gunicorn_conf(small, s, forwarded_allow_ips=s.vpc_cidr))
    done = check_nofile(config, 1024, hard)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(hard)] * 3


def test_the_descriptor_check_refuses_a_hard_limit_below_the_plan(tmp_path: Path) -> None:
    _, plan, text = rendered("dev")
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(text)
    done = check_nofile(config, 1024, 4096)
    assert done.returncode != 0
    assert "RuntimeError: the container's hard descriptor limit (RLIMIT_NOFILE) is 4096" in (
        done.stderr
    )
    assert f"needs {plan.gunicorn.limit_nofile} per Gunicorn process" in done.stderr
