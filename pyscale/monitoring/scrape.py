"""The Prometheus configuration of a stack's monitoring node: the nodes found by the cloud's
own API, the managed data stores' metrics endpoints, and the monitoring node itself.

Nodes are replaced on every change to their files, so their addresses are never written
down: Prometheus asks the cloud (pyscale/clouds/<cloud>/discovery.py: DigitalOcean droplets by
the stack's web tag, OVHcloud's OpenStack instances by name). Either way the private
address and the exporters' ports (render.NODE), so the scrape stays inside the private
network. Chosen over file discovery written at boot because a node that dies without a
word leaves no stale entry, and a new one is scraped without any step on the monitoring
side. The data stores keep their endpoints for their lifetime: those are listed as they are
(`StoreTargets`), scraped over TLS against the stores' CA with the login the cloud gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pyscale import clouds
from pyscale.monitoring.rules import PROBE_JOB
from pyscale.render.defaults import METRICS_PORTS, NODE
from pyscale.settings import Settings

# Relative paths: Prometheus reads them from the configuration file's directory
# (/etc/prometheus on the monitoring node).
RULES_FILE = "rules/pyscale.rules.yml"
SCRAPE_INTERVAL = "15s"
# The monitoring node's own services, scraped on loopback (their registered ports).
PROMETHEUS_PORT, ALERTMANAGER_PORT = 9090, 9093
SELF_JOB = "monitoring"
STORE_JOBS = ("postgresql", "valkey")
# The stack's public URL, probed from outside the fleet as a client sees it (Debian's
# prometheus-blackbox-exporter on the monitoring node, on loopback): up, and its certificate.
PROBE_MODULE = "pyscale_healthz"
BLACKBOX_PORT = 9115


@dataclass(frozen=True)
class StoreTargets:
    """One managed data store's metrics endpoints and the login they take (secret)."""

    job: str  # one of STORE_JOBS
    endpoints: tuple[str, ...]  # https://host:port/path, as the cloud lists them
    username: str
    password: str

    def scrape(self, ca_file: str) -> dict:
        """The scrape job: one target per endpoint, over TLS verified against `ca_file`."""
        parts = [urlsplit(e) for e in self.endpoints]
        paths = {p.path or "/metrics" for p in parts}
        if len(paths) != 1 or any(p.scheme != "https" or not p.port for p in parts):
            raise ValueError(
                f"{self.job} metrics endpoints must be https://host:port with one path: "
                f"{list(self.endpoints)}"
            )
        return {
            "job_name": self.job,
            "scheme": "https",
            "metrics_path": paths.pop(),
            "basic_auth": {"username": self.username, "password": self.password},
            "tls_config": {"ca_file": ca_file},
            "static_configs": [{"targets": [p.netloc for p in parts]}],
        }


def probe_job(url: str) -> dict:
    """The blackbox exporter's scrape: one probe of `url`'s /healthz per scrape, the
    target kept as the `instance` label (the exporter's documented relabelling)."""
    return {
        "job_name": PROBE_JOB,
        "metrics_path": "/probe",
        "params": {"module": [PROBE_MODULE]},
        "static_configs": [{"targets": [url.rstrip("/") + "/healthz"]}],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": f"127.0.0.1:{BLACKBOX_PORT}"},
        ],
    }


def prometheus_config(
    settings: Settings,
    credentials: Mapping[str, str],
    stores: Sequence[StoreTargets] = (),
    ca_file: str = "",
    public_url: str = "",
) -> dict:
    """prometheus.yml for one stack: a job per metrics port on every node (the node and
    Nginx exporters, the app), found the cloud's way
    (Cloud.scrape_discovery; `credentials` what it reads the cloud with, so the file is a
    secret), one per data store (`stores`, their CA in `ca_file`), the monitoring node's own
    services, a probe of `public_url`, the plan's rules and the local Alertmanager."""
    discover = clouds.get(settings.cloud).scrape_discovery
    jobs = []
    for job, port in METRICS_PORTS.items():
        discovery, relabel = discover(settings, port, credentials)
        jobs.append({"job_name": job, **discovery, "relabel_configs": relabel})
    jobs.append({
        "job_name": SELF_JOB,
        "static_configs": [{"targets": [
            f"127.0.0.1:{port}"
            for port in (PROMETHEUS_PORT, ALERTMANAGER_PORT, NODE.node_exporter_port)
        ]}],
    })  # fmt: skip
    jobs += [store.scrape(ca_file) for store in stores]
    jobs += [probe_job(public_url)] if public_url else []
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
            "external_labels": {"stack": settings.stack},
        },
        "rule_files": [RULES_FILE],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ALERTMANAGER_PORT}"]}]}]
        },
        "scrape_configs": jobs,
    }
