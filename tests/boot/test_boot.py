"""Every shipped stack's node, booted for real: its rendered user-data, unchanged, through
cloud-init under systemd in a container standing in for the cloud image (pyscale node boot),
with PostgreSQL, PgBouncer and Valkey reachable over TLS where the node expects them.

Each boot must finish cloud-init with no error, run every pyscale unit, apply every tuned
value as planned (or the host's cap, a named difference), and answer requests through Nginx,
Gunicorn and the app to the data stores. The dev stack, whose node terminates TLS itself,
gets its certificate from a local ACME server, serves it, redirects HTTP, reloads on renewal
and meets Mozilla's intermediate profile by testssl.sh. A node whose bootstrap breaks must
say which step broke and never pass the load balancer's health check.

Boots run two at a time (two whose stacks share a VPC range never together): each spends
most of its time in apt and pip, not on the CPU.
"""

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pyscale import capacity, render, settings
from pyscale.rehearsal import Rehearsal
from pyscale.rehearsal.inspect import PUBLIC_CLIENT
from pyscale.rehearsal.report import ONESHOT_UNITS, PYSCALE_UNITS, BootReport

REPO = Path(__file__).resolve().parents[2]
# The stacks that boot nodes from user-data (platform: kubernetes runs pods instead).
STACKS = [s for s in settings.stack_names(REPO) if not settings.load(s, REPO).on_kubernetes]
PARALLEL_BOOTS = 2


BROKEN = "broken-staging"  # staging with an nginx.conf that `nginx -t` refuses


def _break_nginx(rendered: render.RenderedNode) -> render.RenderedNode:
    """nginx.conf's `worker_connections N;` misspelt (Gunicorn's config writes `= N`)."""
    text = re.sub(r"worker_connections (\d+);", r"worker_connectionz \1;", rendered.user_data)
    return render.RenderedNode(user_data=text, files=rendered.files)


def _boot(stack: str, locks: dict[str, threading.Lock]) -> BootReport:
    stack_settings = settings.load(stack.removeprefix("broken-"), REPO)
    with locks[stack_settings.vpc_cidr]:
        rehearsal = Rehearsal(stack_settings)
        if stack == BROKEN:
            rehearsal.transform = _break_nginx
        try:
            return rehearsal.boot(testssl=stack_settings.tls == "node")
        finally:
            rehearsal.remove()


@pytest.fixture(scope="module")
def booted() -> Callable[[str], BootReport]:
    """Every shipped stack booted once, and staging once more with a broken template (the
    images built first, then reused)."""
    Rehearsal(settings.load(STACKS[0], REPO)).images()
    cidrs = {settings.load(stack, REPO).vpc_cidr for stack in STACKS}
    locks = {cidr: threading.Lock() for cidr in cidrs}
    with ThreadPoolExecutor(PARALLEL_BOOTS) as pool:
        futures = {stack: pool.submit(_boot, stack, locks) for stack in (*STACKS, BROKEN)}
    return lambda stack: futures[stack].result()


@pytest.mark.parametrize("stack", STACKS)
def test_cloud_init_finishes_without_errors(booted, stack: str) -> None:
    report = booted(stack)
    assert report.cloud_init.status == "done", report.problems
    assert report.cloud_init.errors == [], report.cloud_init.errors
    assert report.bootstrap_failure == ""
    assert report.cloud_init.modules, "cloud-init analyze reported no module times"


@pytest.mark.parametrize("stack", STACKS)
def test_every_pyscale_unit_runs(booted, stack: str) -> None:
    units = {u.name: u for u in booted(stack).units}
    assert set(units) == set(PYSCALE_UNITS)
    for unit in units.values():
        sub = "exited" if unit.name in ONESHOT_UNITS else "running"
        assert (unit.active, unit.sub) == ("active", sub), unit


@pytest.mark.parametrize("stack", STACKS)
def test_a_leaving_node_fails_its_health_check_before_nginx_and_gunicorn_stop(
    booted, stack: str
) -> None:
    """systemd stops pyscale-drain.service first (it starts after Nginx and Gunicorn), and
    while it does, /healthz answers 503 so the load balancer takes the node out."""
    drain = booted(stack).drain
    assert drain is not None
    assert {"nginx.service", "pyscale.service"} <= set(drain.drain_after), drain
    assert "pyscale.service" in drain.nginx_after, drain
    assert (drain.healthz_status, drain.healthz_body) == (503, "draining"), drain
    # Behind a load balancer the unit sleeps while it notices; a single node has none.
    detect_s = capacity.plan(settings.load(stack, REPO)).rollout.detect_s
    assert drain.state == ("deactivating" if detect_s else "inactive"), drain


@pytest.mark.parametrize("stack", STACKS)
def test_every_tuned_value_is_applied_as_planned(booted, stack: str) -> None:
    tuned = {t.name: t for t in booted(stack).tuned}
    assert {"sysctl net.core.somaxconn", "gunicorn workers", "gunicorn listen backlog",
            "nginx worker processes", "nginx listen backlog (:80)"} <= set(tuned)  # fmt: skip
    for value in tuned.values():
        assert value.holds, value


@pytest.mark.parametrize("stack", STACKS)
def test_requests_go_through_nginx_gunicorn_and_the_data_stores(booted, stack: str) -> None:
    report = booted(stack)
    paths = {p.path for p in report.probes}
    assert any(path.endswith("/db") for path in paths) and any("/cache" in p for p in paths)
    # A client behind the load balancer: prod's demo routes answer it 404 (probe.ok says so).
    public = [p for p in report.probes if p.path.endswith(f" for {PUBLIC_CLIENT}")]
    assert len(public) == 4 or settings.load(stack, REPO).tls == "node", public
    assert {p.status == 404 for p in public} <= {stack.startswith("prod")}, public
    for probe in report.probes:
        assert probe.ok, probe
    assert report.serving, report.problems


def test_a_node_terminating_tls_serves_its_certificate_and_renews(booted) -> None:
    tls_stacks = [s for s in STACKS if settings.load(s, REPO).tls == "node"]
    assert tls_stacks, "no shipped stack terminates TLS on its node"
    for stack in tls_stacks:
        report = booted(stack)
        assert report.tls and report.tls["served"]["issuer"].startswith("Pebble Intermediate")
        probes = {p.method: p for p in report.probes}
        assert probes["RENEW"].ok, probes["RENEW"]
        assert any(p.status == 301 and p.ok for p in report.probes), "no HTTP -> HTTPS redirect"
        graded = report.tls["testssl"]
        assert graded["protocols_offered"] == ["TLS1_2", "TLS1_3"], graded
        assert graded["mozilla_intermediate"], graded


def test_a_broken_template_stops_the_boot_naming_the_step_and_fails_the_health_check(
    booted,
) -> None:
    """An nginx.conf that `nginx -t` refuses: the boot must stop at the nginx step, record
    it with the output that led to it, and leave /healthz failing (the load balancer never
    admits the node)."""
    report = booted(BROKEN)
    assert report.cloud_init.status == "error"
    assert "step: nginx" in report.bootstrap_failure
    assert 'unknown directive "worker_connectionz"' in report.bootstrap_failure
    health = next(p for p in report.probes if p.path == "/healthz")
    assert health.status != 200 and not health.ok
    assert not report.serving
