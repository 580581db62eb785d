"""docker-compose.yml and compose/, checked: in sync with `pyscale compose`, valid against
the Compose Specification's schema, read by a real compose implementation (Debian's
podman-compose), and its Nginx configuration accepted by the real Nginx.

podman-compose 1.0.3 (Debian 12) has no `config` command: `--dry-run up` prints the podman
commands it would run, which shows how it read every service (it does create the project's
network, removed here). None of the services' images can be pulled here, so the stack is
not started.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from pyscale import capacity, settings
from pyscale.rehearsal.podman import Podman
from pyscale.render import compose, container
from pyscale.render.defaults import NODE

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COMPOSE = REPO / compose.COMPOSE_FILE
OUT = REPO / "compose"
# The Compose Specification's JSON schema: compose-spec/compose-spec, schema/compose-spec.json
# as of commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6 (the file last changed in a08f8d51,
# 2025-10-28); Apache License 2.0.
SCHEMA = REPO / "schema/compose-spec.json"
SERVICES = ("postgres-primary", "postgres-replica", "pgbouncer-primary", "pgbouncer-replica",
            "valkey", "app", "nginx")  # fmt: skip
# Absolute paths in the Nginx files that `nginx -t` opens or creates.
NGINX_PATHS = ("/etc/nginx/", "/var/log/nginx/", "/run/nginx.pid")


def run(argv: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def plan() -> capacity.CapacityPlan:
    return capacity.plan(compose.compose_settings(settings.load("dev", REPO)))


def test_compose_files_are_in_sync_with_pyscale_compose(tmp_path: Path) -> None:
    out = tmp_path / "compose"
    done = run([VENV_BIN / "pyscale", "compose", "--stack", "dev", "--out", out])
    assert done.returncode == 0, done.stderr
    fix = "re-render with `pyscale compose --stack dev --out compose` at the repository root"
    assert (tmp_path / compose.COMPOSE_FILE).read_text() == COMPOSE.read_text(), fix
    rendered = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    checked_in = {p.relative_to(OUT) for p in OUT.rglob("*") if p.is_file()}
    assert rendered == checked_in, fix
    for path in sorted(rendered):
        assert (out / path).read_text() == (OUT / path).read_text(), f"compose/{path}: {fix}"


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    done = run([VENV_BIN / "check-jsonschema", "--schemafile", SCHEMA, COMPOSE])
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_accepts_the_compose_file() -> None:
    done = run([VENV_BIN / "yamllint", "--strict", COMPOSE], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_schema_rejects_a_broken_file(document: dict, tmp_path: Path) -> None:
    broken = json.loads(json.dumps(document))
    broken["services"]["app"]["ulimits"]["nofile"] = {"soft": 1024}  # no hard limit
    broken["services"]["nginx"]["stop_grace"] = "10s"  # no such key
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    done = run([VENV_BIN / "check-jsonschema", "--schemafile", SCHEMA, path])
    assert done.returncode != 0
    assert "ulimits.nofile: {'soft': 1024} is not valid" in done.stdout, done.stdout
    assert "'stop_grace' does not match" in done.stdout, done.stdout


def test_every_service_its_numbers_and_its_mounts(
    document: dict, plan: capacity.CapacityPlan
) -> None:
    services = document["services"]
    assert tuple(services) == SERVICES
    for name, service in services.items():
        assert "healthcheck" in service, name
        for mount in service.get("volumes", ()):
            source = REPO / mount.split(":")[0]
            assert source.exists(), f"{name} mounts {source}, which does not exist"
        for dependency in service.get("depends_on", {}).values():
            assert dependency == {"condition": "service_healthy"}, name
    app, nginx = services["app"], services["nginx"]
    assert app["build"] == {"context": "."}
    assert f"./compose/app/gunicorn.conf.py:{container.CONF_PATH}:ro" in app["volumes"]
    assert app["ulimits"]["nofile"] == {"soft": plan.gunicorn.limit_nofile,
                                        "hard": plan.gunicorn.limit_nofile}  # fmt: skip
    assert nginx["ulimits"]["nofile"]["hard"] == plan.nginx.limit_nofile
    net = {f"{k}={v}" for k, v in plan.kernel.sysctls().items() if k.startswith("net.")}
    assert set(app["sysctls"]) == set(nginx["sysctls"]) == net
    assert app["stop_grace_period"] == f"{plan.gunicorn.graceful_timeout_s + NODE.stop_margin_s}s"
    assert "/tmp" in app["tmpfs"] and app["read_only"] is True
    assert app["environment"]["DB_POOL_SIZE"] == str(plan.database.per_process_pool)
    assert app["environment"]["DATABASE_URL"].startswith("postgresql://pyscale@pgbouncer-primary:")
    assert (
        f"--max_connections={plan.database.max_connections}"
        in (services["postgres-primary"]["command"])
    )
    assert services["valkey"]["command"][
        services["valkey"]["command"].index("--maxclients") + 1
    ] == str(plan.cache.max_clients)
    assert nginx["depends_on"] == {"app": {"condition": "service_healthy"}}
    subnet = document["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert subnet == settings.load("dev", REPO).vpc_cidr
    ini = (OUT / "pgbouncer/postgres-primary.ini").read_text()
    assert f"default_pool_size = {plan.database.pool_size}" in ini
    assert f"max_client_conn = {plan.database.pool_max_clients}" in ini


def test_a_staging_project_reads_from_the_replica() -> None:
    """A stack whose plan has read replicas gets the replica's PgBouncer as its read URL."""
    project = compose.project(settings.load("staging", REPO))
    app = yaml.safe_load(project.compose)["services"]["app"]
    reads = app["environment"]["DATABASE_READ_URLS"].split(",")
    assert len(reads) == project.plan.database.read_replicas >= 1
    assert all(url.startswith("postgresql://pyscale@pgbouncer-replica:") for url in reads)


def test_podman_compose_reads_every_service(podman: Podman, plan: capacity.CapacityPlan) -> None:
    project = f"pyscale-compose-test-{uuid.uuid4().hex[:6]}"
    try:
        done = podman_compose(podman, project)
    finally:
        podman.run("network", "rm", "--force", f"{project}_default", check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = {}
    for line in done.stdout.splitlines():
        if line.startswith("podman run --name="):
            service = line.split()[2].removeprefix(f"--name={project}_").removesuffix("_1")
            runs[service] = line
    assert set(runs) == set(SERVICES), done.stdout
    assert f"--ulimit nofile={plan.gunicorn.limit_nofile}:" in runs["app"]
    assert f"--sysctl net.core.somaxconn={plan.kernel.somaxconn}" in runs["app"]
    assert f"-v {OUT}/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in runs["nginx"]
    assert "-p 127.0.0.1:8080:80" in runs["nginx"]
    assert "--healthcheck-command /bin/sh -c 'curl -fsS" in runs["nginx"]


def podman_compose(podman: Podman, project: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman-compose", "--dry-run", "-p", project, "-f", str(COMPOSE), "up", "-d"],
        capture_output=True, text=True, timeout=120, env=podman.env(), cwd=REPO, check=False,
    )  # fmt: skip


# --- nginx -t -------------------------------------------------------------------------


def nginx_tree(root: Path) -> Path:
    """compose/nginx as the nginx image has it, every absolute path moved under `root`."""
    etc = root / "etc/nginx"
    shutil.copytree(OUT / "nginx", etc, ignore=shutil.ignore_patterns("bootstrap-done"))
    for conf in etc.rglob("*.conf"):
        text = conf.read_text()
        for path in NGINX_PATHS:
            text = text.replace(path, f"{root}{path}")
        conf.write_text(text)
    shutil.copy("/etc/nginx/mime.types", etc / "mime.types")
    (root / "var/log/nginx").mkdir(parents=True)
    (root / "run").mkdir()
    return etc / "nginx.conf"


def nginx_t(config: Path, hosts: str) -> subprocess.CompletedProcess[str]:
    """`nginx -t` (Debian's Nginx) with `hosts` as /etc/hosts, in a mount namespace of its
    own: Nginx resolves the upstream's name (the compose service `app`) while it parses,
    as it does in the container on compose's network."""
    hosts_file = config.parents[2] / "hosts"
    hosts_file.write_text(hosts)
    script = (
        f"mount --bind {shlex.quote(str(hosts_file))} /etc/hosts && "
        f"exec nginx -t -c {shlex.quote(str(config))} -p {shlex.quote(str(config.parent))}/"
    )
    return run(["unshare", "--mount", "sh", "-c", script])


def test_nginx_accepts_the_compose_configuration(tmp_path: Path) -> None:
    text = (OUT / "nginx/conf.d/pyscale.conf").read_text()
    assert f"server app:{container.PORT} fail_timeout=0;" in text
    assert "unix:" not in text
    done = nginx_t(nginx_tree(tmp_path), "127.0.0.1 localhost\n10.112.0.5 app\n")
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_refuses_it_where_the_app_service_does_not_resolve(tmp_path: Path) -> None:
    done = nginx_t(nginx_tree(tmp_path), "127.0.0.1 localhost\n")
    assert done.returncode != 0
    assert f'host not found in upstream "app:{container.PORT}"' in done.stderr, done.stderr
