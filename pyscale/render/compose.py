"""docker-compose.yml for local development, and the files it mounts, from a stack's plan.

What `pyscale node up` runs, as containers: the app (this repository's Dockerfile) with
Gunicorn's container configuration (render.container), Nginx with the node's rendered
configuration, a PostgreSQL primary with a streaming read replica, a PgBouncer in front of
each, and Valkey. Every number is the plan's: Gunicorn's and Nginx's, their descriptor
limits (`ulimits`) and the node's net.* sysctls (per network namespace, so a container may
set them), PostgreSQL's max_connections, PgBouncer's pool mode and sizes, Valkey's
maxclients and eviction policy, the app's pool sizes (its environment is the node's env
file, rendered with the compose services' URLs).

The stack runs as `pyscale node up` runs it: plain HTTP (no certificate for the stack's name
here), and, unlike the node, no domain, so Nginx answers http://localhost:8080/ whatever the
Host. The compose network takes the stack's VPC range: Nginx's real-IP and per-client rules
and Gunicorn's forwarded_allow_ips hold as on the node. The only edits to the node's Nginx
files are the upstream (the app service over TCP instead of the unix socket); the bootstrap
flag /healthz waits for is a mounted file, since the app is healthy before Nginx starts
(depends_on), as on a node whose bootstrap finished.

Local development only: the databases trust every connection from the compose network (no
passwords), and PostgreSQL runs without fsync, as the local node does.

Pure Python: no Pulumi import.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pyscale import capacity
from pyscale.capacity import CapacityPlan
from pyscale.localnode.services import DB_NAME, DB_USER, REDIS_MAXMEMORY, SERVICE_USER
from pyscale.render import cloudinit, container
from pyscale.render import compose_stores as stores
from pyscale.render.defaults import NODE
from pyscale.render.secrets import NodeSecrets
from pyscale.settings import Settings

COMPOSE_FILE = "docker-compose.yml"
# Images from their projects' registries (none is pulled by the tests: no registry is
# reachable here). The PostgreSQL and Valkey majors are the stack's database.version and
# cache.version. PgBouncer: CloudNativePG's image (a CNCF project; Debian slim with PGDG's
# pgbouncer and postgresql-client, non-root), https://github.com/cloudnative-pg/pgbouncer-containers.
NGINX_IMAGE = "nginx:1.27"
PGBOUNCER_IMAGE = "ghcr.io/cloudnative-pg/pgbouncer:1.25.2"
APP_IMAGE = "localhost/pyscale-demo:dev"
# Nginx's port on this machine: loopback only, unprivileged.
PUBLISHED = "127.0.0.1:8080"
# Healthchecks: how often, and how long a service may take to come up.
HEALTH = {"interval": "5s", "timeout": "3s", "retries": 5, "start_period": "30s"}
# The node's upstream line in conf.d/pyscale.conf, replaced by the app service's address.
NODE_UPSTREAM = "server unix:/run/pyscale/gunicorn.sock fail_timeout=0;"


@dataclass(frozen=True)
class ComposeFile:
    """One file the compose project mounts: its path under the output folder and content."""

    path: str
    content: str


@dataclass(frozen=True)
class ComposeProject:
    """docker-compose.yml (beside the output folder) and the files it mounts."""

    settings: Settings  # as compose runs the stack (plain HTTP, no domain)
    plan: CapacityPlan
    compose: str
    files: tuple[ComposeFile, ...]


def compose_settings(stack: Settings) -> Settings:
    """The stack as compose runs it: plain HTTP, answering every Host (no domain), gzip only:
    the official nginx image has no Brotli module (Debian's libnginx-mod-http-brotli-* are
    what edge.brotli installs on a node), and `brotli on;` would stop it starting."""
    edge = dataclasses.replace(stack.edge, brotli=False)
    return dataclasses.replace(stack, tls="off", domain=None, edge=edge)


def _env_values(text: str) -> dict[str, str]:
    """The rendered EnvironmentFile's variables, unquoted as systemd reads them."""
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        values[key] = value
    return values


def _nginx_files(node: cloudinit.RenderedNode) -> list[ComposeFile]:
    files = []
    for node_file in node.files:
        if not node_file.path.startswith("/etc/nginx/"):
            continue
        content = node_file.content
        if node_file.path == "/etc/nginx/conf.d/pyscale.conf":
            if content.count(NODE_UPSTREAM) != 1:
                raise ValueError(
                    f"conf.d/pyscale.conf no longer has the upstream line {NODE_UPSTREAM!r} "
                    "once; update pyscale/render/compose.py with the template"
                )
            content = content.replace(
                NODE_UPSTREAM,
                "# compose: the app service over TCP (a node: its unix socket).\n"
                f"    server app:{container.PORT} fail_timeout=0;",
            )
        files.append(ComposeFile(f"nginx/{node_file.path.removeprefix('/etc/nginx/')}", content))
    files.append(
        ComposeFile(
            "nginx/bootstrap-done",
            "# compose: mounted at the node's bootstrap flag, which /healthz waits for: the\n"
            "# app is healthy before Nginx starts (depends_on), as on a node whose bootstrap\n"
            "# finished.\n",
        )
    )
    return files


def _nofile(limit: int) -> dict[str, dict[str, int]]:
    return {"nofile": {"soft": limit, "hard": limit}}


def _health(command: str) -> dict[str, Any]:
    """A healthcheck: a string, run by the image's shell (CMD-SHELL; podman-compose 1.0.3
    mangles the arguments of the CMD list form)."""
    return {"test": command, **HEALTH}


def _healthy(*services: str) -> dict[str, dict[str, str]]:
    return {name: {"condition": "service_healthy"} for name in services}


def _services(s: Settings, plan: CapacityPlan, env: dict[str, str], out: str) -> list:
    """(comment, name, service) in start order."""
    g, n, db = plan.gunicorn, plan.nginx, plan.database
    # The node's net.* sysctls: per network namespace, so each container sets its own.
    sysctls = [f"{k}={v}" for k, v in plan.kernel.sysctls().items() if k.startswith("net.")]
    health_url = f"http://127.0.0.1:{container.PORT}{plan.load_balancer.health_check_path}"
    postgres_image = f"postgres:{s.database.version}"
    pg_ready = f"pg_isready -q -h 127.0.0.1 -p {stores.POSTGRES_PORT} -U {SERVICE_USER}"
    postgres_mounts = [f"./{out}/postgres/pg_hba.conf:{stores.PG_HBA}:ro"]

    def pooler(server: str) -> dict[str, Any]:
        return {
            "image": PGBOUNCER_IMAGE,
            # PgBouncer itself as PID 1 (the image's entrypoint is a shell script that
            # does not pass signals on); SIGINT: safe shutdown, as the local node stops it.
            "entrypoint": ["/usr/bin/pgbouncer", "/etc/pgbouncer/pgbouncer.ini"],
            "volumes": [
                f"./{out}/pgbouncer/{server}.ini:/etc/pgbouncer/pgbouncer.ini:ro",
                f"./{out}/pgbouncer/userlist.txt:/etc/pgbouncer/userlist.txt:ro",
            ],
            "stop_signal": "SIGINT",
            "ulimits": _nofile(db.pool_max_clients + 2 * db.pool_size + 64),
            "healthcheck": _health(f"pg_isready -q -h 127.0.0.1 -p {stores.POOLER_PORT}"),
            "depends_on": _healthy(server),
        }

    return [
        (
            "PostgreSQL primary: the plan's max_connections, the node's local settings.",
            "postgres-primary",
            {
                "image": postgres_image,
                "command": ["postgres", *stores.server_settings(plan)],
                "environment": {
                    "POSTGRES_USER": SERVICE_USER,
                    "POSTGRES_DB": DB_NAME,
                    "POSTGRES_HOST_AUTH_METHOD": "trust",
                },
                "volumes": [
                    *postgres_mounts,
                    f"./{out}/postgres/init.sql:/docker-entrypoint-initdb.d/10-pyscale.sql:ro",
                ],
                "stop_signal": "SIGINT",
                "healthcheck": _health(pg_ready),
            },
        ),
        (
            "PostgreSQL read replica, streaming from the primary.",
            "postgres-replica",
            {
                "image": postgres_image,
                "user": "postgres",
                "entrypoint": ["/bin/sh", stores.REPLICA_SCRIPT],
                "command": stores.server_settings(plan),
                "volumes": [
                    *postgres_mounts, f"./{out}/postgres/replica.sh:{stores.REPLICA_SCRIPT}:ro"
                ],
                "stop_signal": "SIGINT",
                # Accepting connections, and a standby.
                "healthcheck": _health(
                    f"psql -h 127.0.0.1 -U {SERVICE_USER} -tAc 'SELECT pg_is_in_recovery()'"
                    " | grep -qx t"
                ),
                "depends_on": _healthy("postgres-primary"),
            },
        ),
        ("PgBouncer in front of the primary (the app's writes).", "pgbouncer-primary",
         pooler("postgres-primary")),
        ("PgBouncer in front of the replica (the app's reads when the plan has replicas).",
         "pgbouncer-replica", pooler("postgres-replica")),
        (
            "Valkey: the plan's maxclients and eviction policy; no persistence.",
            "valkey",
            {
                "image": f"valkey/valkey:{s.cache.version}",
                "command": [
                    "valkey-server", "--port", str(stores.VALKEY_PORT), "--protected-mode", "no",
                    "--maxclients", str(plan.cache.max_clients), "--maxmemory", REDIS_MAXMEMORY,
                    "--maxmemory-policy", plan.cache.runs_with, "--save", "",
                    "--appendonly", "no",
                ],
                # Valkey needs maxclients + 32 descriptors.
                "ulimits": _nofile(plan.cache.max_clients + 64),
                "healthcheck": _health(f"valkey-cli -p {stores.VALKEY_PORT} ping | grep -qx PONG"),
            },
        ),
        (
            "The app: this repository's image, Gunicorn as PID 1 with the plan's configuration.",
            "app",
            {
                "build": {"context": "."},
                "image": APP_IMAGE,
                "environment": env,
                "volumes": [f"./{out}/app/gunicorn.conf.py:{container.CONF_PATH}:ro"],
                # Nothing but the metrics files is written: a read-only root, /tmp in memory.
                "read_only": True,
                "tmpfs": ["/tmp"],
                "cap_drop": ["ALL"],
                "security_opt": ["no-new-privileges:true"],
                "ulimits": _nofile(g.limit_nofile),
                "sysctls": sysctls,
                "expose": [str(container.PORT), str(NODE.app_metrics_port)],
                # SIGTERM is Gunicorn's graceful stop: workers get graceful_timeout, and the
                # runtime's SIGKILL comes after it (the node's TimeoutStopSec).
                "stop_signal": "SIGTERM",
                "stop_grace_period": f"{g.graceful_timeout_s + NODE.stop_margin_s}s",
                "healthcheck": _health(
                    'python -c "import urllib.request; '
                    f"urllib.request.urlopen('{health_url}', timeout=2)\""
                ),
                "depends_on": _healthy("pgbouncer-primary", "pgbouncer-replica", "valkey"),
            },
        ),
        (
            "Nginx with the node's rendered configuration, on http://" + PUBLISHED + "/.",
            "nginx",
            {
                "image": NGINX_IMAGE,
                "ports": [f"{PUBLISHED}:{NODE.http_port}"],
                "volumes": [
                    f"./{out}/nginx/nginx.conf:/etc/nginx/nginx.conf:ro",
                    f"./{out}/nginx/conf.d:/etc/nginx/conf.d:ro",
                    f"./{out}/nginx/pyscale:/etc/nginx/pyscale:ro",
                    f"./{out}/nginx/bootstrap-done:{NODE.bootstrap_done}:ro",
                ],
                "ulimits": _nofile(n.limit_nofile),
                "sysctls": sysctls,
                # QUIT: stop accepting, finish in-flight requests (the node's ExecStop).
                "stop_signal": "SIGQUIT",
                "stop_grace_period": f"{plan.rollout.finish_s + NODE.nginx_term_wait_s}s",
                "healthcheck": _health(
                    f"curl -fsS -o /dev/null http://127.0.0.1{plan.load_balancer.health_check_path}"
                ),
                "depends_on": _healthy("app"),
            },
        ),
    ]  # fmt: skip


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (yamllint's default); a short list of
    plain values (a healthcheck's command) on one line, as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _list(dumper: yaml.SafeDumper, value: list) -> yaml.SequenceNode:
    scalars = all(isinstance(item, (str, int)) for item in value)
    flow = scalars and len(value) > 1 and sum(len(str(item)) + 2 for item in value) <= 72
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(list, _list)


def _dump(value: Any) -> str:
    # No folding: a healthcheck's command stays on one line.
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, width=1000, allow_unicode=True)


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def _compose_text(s: Settings, plan: CapacityPlan, env: dict[str, str], out: str) -> str:
    parts = [
        f"# pyscale: local development for stack '{s.stack}' (`pyscale compose --stack {s.stack} "
        f"--out {out}`;\n# do not edit: re-render). The app, Nginx with the node's configuration,"
        " PostgreSQL\n# primary + streaming replica, a PgBouncer in front of each, Valkey; every"
        " number from\n# the stack's capacity plan (pyscale/render/compose.py says what differs"
        " from a node).\n#   docker compose up --build    then http://" + PUBLISHED + "/\n",
        _dump({"name": f"pyscale-{s.stack}"}),
        "\nservices:\n",
    ]
    for comment, name, service in _services(s, plan, env, out):
        parts.append(f"  # {comment}\n")
        parts.append(_indent(_dump({name: service}), 2))
    parts.append(
        "\n# The stack's VPC range: Nginx's real-IP rules and Gunicorn's forwarded_allow_ips\n"
        "# trust it, as on a node.\n"
    )
    parts.append(_dump({"networks": {"default": {"ipam": {"config": [{"subnet": s.vpc_cidr}]}}}}))
    return "".join(parts)


def project(stack: Settings, out: str = "compose") -> ComposeProject:
    """The compose project of `stack`; `out` is the folder (beside docker-compose.yml) that
    holds the mounted files."""
    s = compose_settings(stack)
    plan = capacity.plan(s)
    pooler = f"postgresql://{DB_USER}@pgbouncer-{{}}:{stores.POOLER_PORT}/{DB_NAME}"
    secrets = NodeSecrets(
        database_url=pooler.format("primary"),
        # As the local node: one replica stands in for every replica the plan counts.
        database_read_urls=(pooler.format("replica"),) * plan.database.read_replicas,
        redis_url=f"redis://valkey:{stores.VALKEY_PORT}/0",
    )
    node = cloudinit.node(plan, s, secrets)
    env = _env_values(node.file("/etc/pyscale/env").content)
    files = [
        ComposeFile(
            "app/gunicorn.conf.py",
            container.gunicorn_conf(plan, s, forwarded_allow_ips=s.vpc_cidr),
        ),
        *_nginx_files(node),
        ComposeFile("postgres/pg_hba.conf", stores.pg_hba(s)),
        ComposeFile("postgres/init.sql", stores.INIT_SQL),
        ComposeFile("postgres/replica.sh", stores.REPLICA_SH),
        ComposeFile(
            "pgbouncer/postgres-primary.ini", stores.pgbouncer_ini(plan, "postgres-primary")
        ),
        ComposeFile(
            "pgbouncer/postgres-replica.ini", stores.pgbouncer_ini(plan, "postgres-replica")
        ),
        ComposeFile("pgbouncer/userlist.txt", f'"{DB_USER}" ""\n"{SERVICE_USER}" ""\n'),
    ]
    return ComposeProject(s, plan, _compose_text(s, plan, env, out), tuple(files))


def write(project: ComposeProject, out: Path) -> list[Path]:
    """Write the mounted files under `out` and docker-compose.yml beside it; the paths."""
    written = []
    for compose_file in project.files:
        target = out / compose_file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(compose_file.content)
        written.append(target)
    compose = out.parent / COMPOSE_FILE
    compose.write_text(project.compose)
    return [compose, *written]
