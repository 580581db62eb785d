"""Gunicorn's configuration for a container (Dockerfile, docker-compose.yml, Kubernetes).

The same template as a VM node's gunicorn.conf.py (cloud-init/files/etc/pyscale/), rendered
with the container's values in its `container` context, so the capacity numbers (workers,
worker_class, worker_connections, backlog, max_requests and its stagger, timeouts,
keepalive, the metrics hooks) are the plan's, written once. What differs is what systemd
gave the node and a container runtime does not: Gunicorn listens on TCP port `PORT` (a
unix socket cannot cross containers), has no control socket and nothing under /run, counts
its metrics in a memory-backed `METRICS_DIR`, and checks at start that the runtime's
descriptor limit holds the plan's (GunicornPlan.limit_nofile), raising its soft limit to
the hard one.

Where things live in the image (the Dockerfile puts them there; compose and Kubernetes
mount a rendered configuration at `CONF_PATH`):

    CONF_PATH      this configuration; the image carries compose/app/gunicorn.conf.py there
    MODULES_DIR    pyscale_worker.py and pyscale_metrics.py, Gunicorn's `pythonpath`
    APP_DIR        the demo app, the working directory (Gunicorn puts it on sys.path)

Pure Python: no Pulumi import.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pyscale.capacity import CapacityPlan
from pyscale.render import cloudinit
from pyscale.render.defaults import NODE
from pyscale.settings import Settings

# The port Gunicorn listens on in the container: the convention of Python WSGI images,
# unprivileged (the image's user cannot bind below 1024).
PORT = 8000
# Every address of the container: the proxy reaches it over the container network.
LISTEN_ADDRESS = "0.0.0.0"
CONF_PATH = "/etc/pyscale/gunicorn.conf.py"
# Outside /etc/pyscale, so a ConfigMap mounted over that directory leaves the modules.
MODULES_DIR = "/opt/pyscale/lib/"
APP_DIR = "/opt/pyscale/demo"
# Workers' metric files: a tmpfs (compose) or an emptyDir with medium Memory (Kubernetes).
METRICS_DIR = "/tmp/pyscale-metrics"
# The arbiter's metrics server listens on every address of the container: Prometheus
# scrapes it on the container's network (PYSCALE_METRICS_ADDRESS overrides it).
METRICS_ADDRESS = "0.0.0.0"
TEMPLATE = "files/etc/pyscale/gunicorn.conf.py.j2"


@dataclass(frozen=True)
class ContainerValues:
    """The template's `container` context: what a container has instead of the node's."""

    listen_address: str
    port: int
    modules_dir: str
    metrics_dir: str
    metrics_address: str
    forwarded_allow_ips: str


def _allowed_ips(value: str) -> str:
    """`value` as Gunicorn's forwarded_allow_ips: addresses or networks, comma-separated,
    or "*"; ValueError naming the bad entry otherwise."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not entries:
        raise ValueError("forwarded_allow_ips is empty: name the proxy's network (CIDR) or '*'")
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"forwarded_allow_ips entry {entry!r} is not an IP address or network; "
                "allowed: addresses or CIDRs, comma-separated, or '*'"
            ) from None
    return ",".join(entries)


def gunicorn_conf(plan: CapacityPlan, settings: Settings, *, forwarded_allow_ips: str) -> str:
    """gunicorn.conf.py for a container whose proxy connects from `forwarded_allow_ips`
    (comma-separated addresses or networks: the only peers trusted for X-Forwarded-*)."""
    container = ContainerValues(
        listen_address=LISTEN_ADDRESS,
        port=PORT,
        modules_dir=MODULES_DIR,
        metrics_dir=METRICS_DIR,
        metrics_address=METRICS_ADDRESS,
        forwarded_allow_ips=_allowed_ips(forwarded_allow_ips),
    )
    context = {"plan": plan, "settings": settings, "node": NODE, "container": container}
    # The node's own jinja environment (StrictUndefined, the same whitespace rules).
    return cloudinit._ENVIRONMENT.get_template(TEMPLATE).render(context)
