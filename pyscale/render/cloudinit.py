"""Cloud-init rendering: a CapacityPlan and the stack's settings in, one node's user-data out.

Every node boots from a single `#cloud-config` document that installs Nginx, Python and the
monitoring agents, writes every configuration file and starts the service. The files are
jinja2 templates under `cloud-init/files/<path on the node>.j2`, rendered with
StrictUndefined so that a number missing from the plan fails the render instead of landing
on a node as an empty string. Tuning numbers come from the plan; the few fixed values the
plan does not model (ports, HTTP timeouts, cache lifetimes) are `defaults.NodeDefaults`,
each with its source.

Changing user-data replaces a droplet, so the output is deterministic: files in a fixed
order, no timestamps, YAML dumped without key sorting surprises.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml

from pyscale import clouds
from pyscale.capacity import CapacityPlan
from pyscale.render.defaults import NODE
from pyscale.render.secrets import NodeSecrets
from pyscale.settings import Settings
from pyscale.settings.interface import DEMO_MODULES
from pyscale.urls import verify_server

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "cloud-init"
APP_DIR = REPO / "app"
# The node's Python environment, every package pinned with its wheels' hashes
# (`pyscale lock` writes it from deps/node.in).
NODE_LOCK = REPO / "deps" / "node.lock"
# pyscale's Gunicorn worker classes (GunicornPlan.worker_class), shipped as they are: a node
# gets the one of its app.interface.
WORKER_MODULE = TEMPLATES / "files" / "etc" / "pyscale" / "pyscale_worker.py"
ASGI_WORKER_MODULE = TEMPLATES / "files" / "etc" / "pyscale" / "pyscale_asgi_worker.py"
# The app metrics every worker counts and the arbiter serves, shipped as it is.
METRICS_MODULE = TEMPLATES / "files" / "etc" / "pyscale" / "pyscale_metrics.py"
# The page Nginx sends when the app cannot answer (locations.conf), shipped as it is.
ERROR_PAGE = TEMPLATES / "files" / "etc" / "nginx" / "pyscale" / "errors" / "50x.html"
# Debian's and Ubuntu's Nginx Brotli modules (source package libnginx-mod-http-brotli), in
# every release pyscale.nodeos boots (the versions: nginx.conf, note 13), installed with
# edge.brotli: the filter compresses responses, the static module sends a file's
# pre-compressed .br neighbour.
BROTLI_PACKAGES = ("libnginx-mod-http-brotli-filter", "libnginx-mod-http-brotli-static")

# Where things live on the node.
DEMO_DIR = "/opt/pyscale/demo"
APP_CHECKOUT = "/opt/pyscale/app"
# How the data stores' CA (NodeSecrets.provider_ca) must begin: PEM, as both clouds return it.
_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
# Caches and build outputs that must not travel to the node (and would make renders
# depend on whether the tests ran).
_APP_SKIP = re.compile(
    r"(^|/)(__pycache__|\.pytest_cache|\.ruff_cache|build|dist|[^/]*\.egg-info)(/|$)|\.py[co]$"
)


@dataclass(frozen=True)
class NodeFile:
    """One `write_files` entry, as it lands on the node."""

    path: str
    content: str
    permissions: str = "0644"
    owner: str = "root:root"
    # Written gzipped and base64-encoded (cloud-init's `encoding: gz+b64`): the embedded
    # demo app's source, the bulk of the document, so that config files stay readable in
    # the user-data and the whole fits OVHcloud's 48 KiB.
    compressed: bool = False

    def entry(self) -> dict[str, Any]:
        """The `write_files` entry; deferred: written in the final stage, after packages
        and users exist, so owners resolve and the packages' own default files do not
        overwrite ours."""
        entry: dict[str, Any] = {"path": self.path}
        if self.compressed:
            packed = gzip.compress(self.content.encode(), mtime=0)
            entry |= {"encoding": "gz+b64", "content": base64.b64encode(packed).decode()}
        else:
            entry["content"] = self.content
        return entry | {"permissions": self.permissions, "owner": self.owner, "defer": True}


@dataclass(frozen=True)
class RenderedNode:
    """The user-data document and, for tests and `render --out`, every file it writes."""

    user_data: str
    files: tuple[NodeFile, ...]

    def file(self, path: str) -> NodeFile:
        """The file written at `path` (KeyError naming the known paths when absent)."""
        for node_file in self.files:
            if node_file.path == path:
                return node_file
        raise KeyError(f"{path} is not written by this node; files: {[f.path for f in self.files]}")


@dataclass(frozen=True)
class _Template:
    path: str  # on the node; the template is cloud-init/files/<path>.j2
    permissions: str = "0644"
    owner: str = "root:root"
    tls_node_only: bool = False
    interface: str | None = None  # shipped only to nodes serving this app.interface
    source: Path | None = None  # a file written as it is, not a template
    compressed: bool = False  # gz+b64 in the user-data (which the clouds cap in size)

    def render(self, context: dict[str, Any]) -> str:
        if self.source is not None:
            return self.source.read_text()
        return _ENVIRONMENT.get_template(f"files{self.path}.j2").render(context)


# In the order they are written. Deferred writes (see _write_files) run after packages are
# installed, so owners such as `pyscale` and `www-data` exist.
_TEMPLATES = (
    _Template("/etc/sysctl.d/60-pyscale.conf"),
    _Template("/etc/security/limits.d/60-pyscale.conf"),
    _Template("/etc/nginx/nginx.conf"),
    _Template("/etc/nginx/conf.d/pyscale.conf"),
    _Template("/etc/nginx/pyscale/proxy.conf"),
    _Template("/etc/nginx/pyscale/locations.conf"),
    _Template("/etc/nginx/pyscale/health.conf"),
    _Template("/etc/nginx/pyscale/headers.conf"),
    _Template("/etc/nginx/pyscale/errors/50x.html", source=ERROR_PAGE),
    _Template("/etc/nginx/pyscale/tls.conf", tls_node_only=True),
    _Template("/etc/systemd/system/nginx.service.d/pyscale.conf"),
    _Template("/etc/pyscale/gunicorn.conf.py", compressed=True),
    _Template(
        "/etc/pyscale/pyscale_worker.py", interface="wsgi", source=WORKER_MODULE, compressed=True
    ),
    _Template(
        "/etc/pyscale/pyscale_asgi_worker.py",
        interface="asgi",
        source=ASGI_WORKER_MODULE,
        compressed=True,
    ),
    _Template("/etc/pyscale/pyscale_metrics.py", source=METRICS_MODULE, compressed=True),
    _Template("/etc/pyscale/env", permissions="0600", owner="pyscale:pyscale"),
    _Template("/etc/pyscale/constraints.txt"),
    _Template("/etc/pyscale/requirements.txt", source=NODE_LOCK),
    _Template("/etc/systemd/system/pyscale.service"),
    _Template("/etc/systemd/system/pyscale-drain.service"),
    _Template("/usr/local/sbin/pyscale-exporters", permissions="0755"),
)
RUNCMD_TEMPLATE = "runcmd.sh.j2"

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)
_ENVIRONMENT.filters["shquote"] = shlex.quote


def node_pins(lock: Path = NODE_LOCK) -> dict[str, str]:
    """Package -> version from the node's lock: the constraints an app from git installs in,
    so its own dependencies cannot move what the lock installed."""
    pins = dict(re.findall(r"^([a-z0-9-]+)==([^\s;\\]+)", lock.read_text(), re.MULTILINE))
    if not pins:
        raise ValueError(f"{lock} pins no package; regenerate it: python -m pyscale.render.lock")
    return pins


def _env_value(name: str, value: str) -> str:
    """A systemd EnvironmentFile value: double-quoted, backslash and quote escaped."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"{name} must be a single line")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _demo_files(app_dir: Path, interface: str) -> tuple[NodeFile, ...]:
    """Every source file of the embedded demo app, under DEMO_DIR, in path order, but the
    module of the interface the node does not serve (the user-data is capped in size)."""
    if not app_dir.is_dir():
        return ()
    unserved = {
        module.partition(":")[0].replace(".", "/") + ".py"
        for name, module in DEMO_MODULES.items()
        if name != interface
    }
    files = []
    for source in sorted(p for p in app_dir.rglob("*") if p.is_file()):
        relative = source.relative_to(app_dir).as_posix()
        if _APP_SKIP.search(relative) or relative in unserved:
            continue
        files.append(
            NodeFile(f"{DEMO_DIR}/{relative}", content=source.read_text(), compressed=True)
        )
    return tuple(files)


def _context(plan: CapacityPlan, settings: Settings, secrets: NodeSecrets) -> dict[str, Any]:
    if secrets.database_read_urls and not plan.database.per_process_read_pool:
        # The app would open read pools of size 0 and refuse to start.
        raise ValueError(
            f"{len(secrets.database_read_urls)} read replica URL(s) given for stack "
            f"'{settings.stack}', whose plan has no read replica (pool size 0); pass no read "
            "URLs, or set pyscale:database.readReplicas"
        )
    if secrets.provider_ca and not secrets.provider_ca.lstrip().startswith(_PEM_CERTIFICATE):
        raise ValueError(
            f"the data stores' CA for stack '{settings.stack}' is not a PEM certificate "
            f"(it must start with {_PEM_CERTIFICATE})"
        )

    def url(value: str) -> str:
        return verify_server(value, NODE.provider_ca) if secrets.provider_ca else value

    tls_node = settings.tls == "node"
    return {
        "plan": plan,
        "settings": settings,
        "node": NODE,
        # gunicorn.conf.py: a VM node's (the container's values when set: render.container).
        "container": None,
        "tls_node": tls_node,
        "app_dir": DEMO_DIR if settings.app.is_demo else APP_CHECKOUT,
        "pins": node_pins(),
        "env": {
            "DATABASE_URL": _env_value("DATABASE_URL", url(secrets.database_url)),
            "DATABASE_READ_URLS": _env_value(
                "DATABASE_READ_URLS", ",".join(map(url, secrets.database_read_urls))
            ),
            "REDIS_URL": _env_value("REDIS_URL", url(secrets.redis_url)),
            "DB_POOL_SIZE": plan.database.per_process_pool,
            "DB_READ_POOL_SIZE": plan.database.per_process_read_pool,
            "CACHE_POOL_SIZE": plan.cache.per_process_pool,
        },
        "certificate_dir": f"/etc/letsencrypt/live/{settings.domain}" if tls_node else "",
    }


def _packages(settings: Settings) -> list[str]:
    packages = [
        "nginx",
        "python3-venv",
        # psycopg (pure Python) loads the system libpq at import.
        "libpq5",
        "prometheus-node-exporter",
        "prometheus-nginx-exporter",
    ]
    if not settings.app.is_demo:
        packages.append("git")
    if settings.tls == "node":
        # Webroot issuance keeps certbot away from our Nginx files (the nginx plugin edits them).
        packages.append("certbot")
    if settings.edge.brotli:
        packages.extend(BROTLI_PACKAGES)
    return packages


def runcmd(template: str, context: dict[str, Any]) -> list[str]:
    """The runcmd steps of `template` (under cloud-init/): its paragraphs, each one entry (a
    comment + commands).

    cloud-init joins runcmd strings into one /bin/sh script, so the first entry's `set -eu`
    stops the boot at the first failing step instead of starting a half-installed node.
    """
    script = _ENVIRONMENT.get_template(template).render(context)
    return [block.strip("\n") for block in re.split(r"\n\s*\n", script) if block.strip()]


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so the user-data reads like the files it writes."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_presenter)


def document_text(
    build: Callable[[list[NodeFile]], dict[str, Any]],
    files: list[NodeFile],
    settings: Settings,
    what: str,
    hint: str,
) -> tuple[str, list[NodeFile]]:
    """The `#cloud-config` text of `build(files)` and the files as written.

    Files stay readable in the document while it fits the stack's cloud; where it does not
    (OVHcloud's 48 KiB), the largest plain files are written gzipped (cloud-init's
    gz+b64), one at a time, until it fits. ValueError, naming the largest files, when even
    that is not enough: an oversized document fails at preview, not in the provider's API
    halfway through an update. Deterministic, as the user-data must be.
    """
    limit = clouds.get(settings.cloud).user_data_limit
    files = list(files)
    while True:
        body = yaml.dump(
            build(files), Dumper=_LiteralDumper, sort_keys=False, width=1000, allow_unicode=True
        )
        user_data = "#cloud-config\n" + body
        size = len(user_data.encode())
        plain = [f for f in files if not f.compressed]
        if size <= limit:
            return user_data, files
        if not plain:
            break
        largest = max(plain, key=lambda f: (len(f.content.encode()), f.path))
        files = [dataclasses.replace(f, compressed=True) if f is largest else f for f in files]
    largest_files = sorted(files, key=lambda f: len(f.content.encode()), reverse=True)[:3]
    raise ValueError(
        f"{what} for stack '{settings.stack}' is {size} bytes with every file compressed; "
        f"{settings.cloud} accepts at most {limit}. Largest files: "
        + ", ".join(f"{f.path} ({len(f.content.encode())} bytes)" for f in largest_files)
        + f". {hint}"
    )


def node(plan: CapacityPlan, settings: Settings, secrets: NodeSecrets) -> RenderedNode:
    """The node's `#cloud-config` user-data and the files it writes.

    Raises jinja2.UndefinedError when a template asks for a value the plan does not have,
    and ValueError when the document is larger than the cloud accepts.
    """
    context = _context(plan, settings, secrets)
    files = [
        NodeFile(
            path=t.path,
            content=t.render(context),
            permissions=t.permissions,
            owner=t.owner,
            compressed=t.compressed,
        )
        for t in _TEMPLATES
        if (context["tls_node"] or not t.tls_node_only)
        and t.interface in (None, settings.app.interface)
    ]
    if secrets.provider_ca:
        files.append(NodeFile(NODE.provider_ca, content=secrets.provider_ca))
    if settings.app.is_demo:
        files.extend(_demo_files(APP_DIR, settings.app.interface))
    steps = runcmd(RUNCMD_TEMPLATE, context)

    def document(written: list[NodeFile]) -> dict[str, Any]:
        return {
            # SSH with keys only (cloud-init sets sshd's PasswordAuthentication no); the keys are
            # the stack's sshKeys, put on by the cloud.
            "ssh_pwauth": False,
            "package_update": True,
            "package_upgrade": True,
            "packages": _packages(settings),
            "users": [
                "default",
                {
                    "name": "pyscale",
                    "system": True,
                    "homedir": "/opt/pyscale",
                    "no_create_home": True,
                    "shell": "/usr/sbin/nologin",
                    "lock_passwd": True,
                },
            ],
            "write_files": [f.entry() for f in written],
            "runcmd": steps,
        }

    user_data, written = document_text(
        document, files, settings, "user-data",
        hint="Shrink the embedded app (app/) or deploy it from git (pyscale:app.repo).",
    )  # fmt: skip
    return RenderedNode(user_data=user_data, files=tuple(written))


def write_tree(rendered: RenderedNode, out: Path) -> None:
    """Write `out/user-data` and each file at `out/files/<its absolute path>`, with its mode."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "user-data").write_text(rendered.user_data)
    for node_file in rendered.files:
        target = out / "files" / node_file.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(node_file.content)
        target.chmod(int(node_file.permissions, 8))
