"""The Dockerfile's image, built and run: it serves, checks its descriptor limit, stops
gracefully on SIGTERM, and runs as a user that is not root.

Each container is started with bounded waits and always removed. The image's default
configuration (compose/app/gunicorn.conf.py, the dev stack's plan) needs 65,536
descriptors, more than this machine grants a container (its hard limit, 20,000 here), so
the serving containers mount a configuration rendered from the same stack with the plan
derived for this machine's limit, as `pyscale node up` derives its local plan.
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyscale import capacity, settings
from pyscale.rehearsal.podman import Podman, host_nofile
from pyscale.render import compose, container

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
# An in-flight request while the container is told to stop: it must still be answered.
IN_FLIGHT_MS = 2000
# containers.conf's nproc (pyscale/rehearsal/podman.py): a container given its own
# `--ulimit` must repeat it, or podman asks runc for more than this machine allows.
NPROC = ("--ulimit", "nproc=4096:4096")


def nofile(soft: int, hard: int) -> tuple[str, ...]:
    return ("--ulimit", f"nofile={soft}:{hard}", *NPROC)


def dev_plan(max_process_nofile: int = capacity.LINUX_NR_OPEN) -> tuple:
    s = compose.compose_settings(settings.load("dev", REPO))
    return s, capacity.plan(s, max_process_nofile=max_process_nofile, throughput_holds=False)


@dataclass(frozen=True)
class Running:
    name: str
    address: str

    def url(self, path: str, port: int = container.PORT) -> str:
        return f"http://{self.address}:{port}{path}"


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextlib.contextmanager
def app_container(podman: Podman, image: str, *args: str) -> Iterator[Running]:
    """The image running (detached, on podman's default network) until its health path
    answers 200; removed on the way out, whatever happened."""
    name = f"pyscale-container-test-{uuid.uuid4().hex[:8]}"
    try:
        podman.run("run", "-d", "--name", name, *args, image, timeout=60)
        address = podman.inspect(name)["NetworkSettings"]["IPAddress"]
        running = Running(name, address)
        health = running.url(dev_plan()[1].load_balancer.health_check_path)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            state = podman.inspect(name)["State"]
            assert state["Running"], f"{name} exited ({state['ExitCode']}):\n" + logs(podman, name)
            with contextlib.suppress(OSError):
                if get(health, timeout=2)[0] == 200:
                    break
            assert time.monotonic() < deadline, f"no 200 on {health}:\n" + logs(podman, name)
            time.sleep(0.3)
        yield running
    finally:
        podman.remove([name])


def logs(podman: Podman, name: str) -> str:
    done = podman.run("logs", name, check=False, timeout=30)
    return (done.stdout + done.stderr)[-3000:]


@pytest.fixture(scope="module")
def local_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gunicorn.conf.py from the dev stack, the plan derived for this machine's limit."""
    s, plan = dev_plan(max_process_nofile=host_nofile())
    assert plan.gunicorn.limit_nofile <= host_nofile()
    conf = tmp_path_factory.mktemp("conf") / "gunicorn.conf.py"
    conf.write_text(container.gunicorn_conf(plan, s, forwarded_allow_ips=s.vpc_cidr))
    conf.chmod(0o644)
    return conf


@pytest.fixture(scope="module")
def serving(podman: Podman, app_image: str, local_conf: Path) -> Iterator[Running]:
    # A soft limit far below the hard one: the configuration must raise it.
    with app_container(
        podman, app_image,
        *nofile(1024, host_nofile()), "-v", f"{local_conf}:{container.CONF_PATH}:ro",
    ) as running:  # fmt: skip
        yield running


def test_the_image_serves_its_health_path_and_the_app(serving: Running) -> None:
    _, plan = dev_plan()
    assert get(serving.url(plan.load_balancer.health_check_path)) == (200, "ok\n")
    status, body = get(serving.url("/"))
    assert status == 200 and "pyscale" in body, body
    # The arbiter's app metrics, on the container's network, count the requests.
    status, metrics = get(serving.url("/metrics", port=9464))
    assert status == 200 and "pyscale_http_requests" in metrics, metrics[:500]


def test_the_image_healthcheck_passes(podman: Podman, app_image: str, serving: Running) -> None:
    config = podman.run("image", "inspect", app_image).stdout
    _, plan = dev_plan()
    assert f"127.0.0.1:{container.PORT}{plan.load_balancer.health_check_path}" in config
    checked = podman.run("healthcheck", "run", serving.name, check=False, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_gunicorn_is_pid_1_as_a_user_that_is_not_root(
    podman: Podman, app_image: str, serving: Running
) -> None:
    assert (
        podman.run("image", "inspect", "--format", "{{.Config.User}}", app_image).stdout.strip()
        == "10001:10001"
    )
    status = podman.exec(serving.name, "cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids == ["10001"] * 4, status
    cmdline = podman.exec(serving.name, "cat", "/proc/1/cmdline").split("\0")
    assert Path(cmdline[1]).name == "gunicorn", cmdline
    assert cmdline[2:4] == ["--config", container.CONF_PATH], cmdline


def test_the_soft_descriptor_limit_is_raised_to_the_hard_one(
    podman: Podman, serving: Running
) -> None:
    limits = podman.exec(serving.name, "cat", "/proc/1/limits")
    line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    assert line.split()[3:5] == [str(host_nofile())] * 2, line
    assert f"descriptor limit: {host_nofile()}" in logs(podman, serving.name)


def test_the_image_refuses_a_descriptor_limit_below_the_plan(
    podman: Podman, app_image: str
) -> None:
    """The image's own configuration (the dev plan's), in a container whose hard limit is
    below its GunicornPlan.limit_nofile: Gunicorn stops at once and says both numbers."""
    image_conf = podman.run(
        "run", "--rm", "--entrypoint", "cat", app_image, container.CONF_PATH, timeout=60
    ).stdout
    assert image_conf == (REPO / "compose/app/gunicorn.conf.py").read_text()
    _, plan = dev_plan()
    hard = 4096
    assert hard < plan.gunicorn.limit_nofile
    name = f"pyscale-container-test-{uuid.uuid4().hex[:8]}"
    try:
        done = podman.run(
            "run", "--name", name, *nofile(1024, hard), app_image,
            check=False, timeout=60,
        )  # fmt: skip
    finally:
        podman.remove([name])
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"hard descriptor limit (RLIMIT_NOFILE) is {hard}" in done.stderr, done.stderr
    assert f"needs {plan.gunicorn.limit_nofile}" in done.stderr, done.stderr
    assert "Listening at" not in done.stderr


def test_sigterm_stops_gracefully_finishing_the_request_in_flight(
    podman: Podman, app_image: str, local_conf: Path
) -> None:
    """`podman stop` sends the image's STOPSIGNAL (SIGTERM) to Gunicorn, PID 1: the request
    in flight is answered, and the container exits 0 well within graceful_timeout."""
    _, plan = dev_plan()
    graceful = plan.gunicorn.graceful_timeout_s
    with app_container(
        podman, app_image, "-v", f"{local_conf}:{container.CONF_PATH}:ro"
    ) as running:
        assert podman.inspect(running.name)["Config"]["StopSignal"] in ("SIGTERM", "15", 15)
        answer: list[tuple[int, str]] = []
        request = threading.Thread(
            target=lambda: answer.append(get(running.url(f"/io?ms={IN_FLIGHT_MS}"), timeout=30))
        )
        request.start()
        time.sleep(IN_FLIGHT_MS / 4000)  # the request has reached a worker
        started = time.monotonic()
        # Podman's SIGKILL only after the plan's graceful_timeout and a margin.
        podman.run("stop", "--time", str(graceful + 10), running.name, timeout=graceful + 30)
        stopped_in = time.monotonic() - started
        request.join(timeout=30)
        state = podman.inspect(running.name)["State"]
        output = logs(podman, running.name)
    assert answer == [(200, f'{{"waited_ms":{IN_FLIGHT_MS}}}\n')], answer
    assert state["ExitCode"] == 0, output
    assert "Handling signal: term" in output and "Shutting down: Master" in output, output
    assert stopped_in < graceful, f"stopped in {stopped_in:.1f} s"
