"""The Prometheus configuration that scrapes a stack's nodes, found by the cloud's own API.

Nodes are replaced on every change to their files, so their addresses are never written
down: Prometheus asks the cloud (pyscale/clouds/<cloud>/discovery.py: DigitalOcean droplets by
the stack's web tag, OVHcloud's OpenStack instances by name). Either way the private
address and the exporters' ports (render.NODE), so the scrape stays inside the private
network. Chosen over file discovery written at boot because a node that dies without a
word leaves no stale entry, and a new one is scraped without any step on the monitoring
side.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyscale import clouds
from pyscale.render.defaults import NODE
from pyscale.settings import Settings

# Relative paths: Prometheus reads them from the configuration file's directory
# (/etc/prometheus on the monitoring node).
RULES_FILE = "rules/pyscale.rules.yml"
SCRAPE_INTERVAL = "15s"
EXPORTERS = {"node": NODE.node_exporter_port, "nginx": NODE.nginx_exporter_port}


def prometheus_config(settings: Settings, credentials: Mapping[str, str] | None = None) -> dict:
    """prometheus.yml for one stack: a job per exporter on every node, found the cloud's way
    (Cloud.scrape_discovery; `credentials` what it reads the cloud with), the plan's rules,
    the local Alertmanager."""
    discover = clouds.get(settings.cloud).scrape_discovery
    jobs = []
    for job, port in EXPORTERS.items():
        discovery, relabel = discover(settings, port, credentials or {})
        jobs.append({"job_name": job, **discovery, "relabel_configs": relabel})
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
            "external_labels": {"stack": settings.stack},
        },
        "rule_files": [RULES_FILE],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]},
        "scrape_configs": jobs,
    }
