"""Monitoring derived from the capacity plan: Prometheus alert rules whose thresholds are the
plan's own limits, the scrape configuration that finds the nodes through the cloud, and the
Grafana dashboard that draws the fleet against the plan."""

from pyscale.monitoring.dashboard import dashboard, datasources
from pyscale.monitoring.rules import NEAR, Alert, alerts, rule_file
from pyscale.monitoring.scrape import RULES_FILE, prometheus_config

__all__ = [
    "NEAR",
    "RULES_FILE",
    "Alert",
    "alerts",
    "dashboard",
    "datasources",
    "prometheus_config",
    "rule_file",
]
