"""Monitoring derived from the capacity plan: Prometheus alert rules whose thresholds are the
plan's own limits, the scrape configuration that finds the nodes through the cloud, and the
Grafana dashboard that draws the fleet against the plan, and the monitoring node that runs
them (`monitor_node`: Prometheus, Alertmanager and Grafana, from one user-data)."""

from pyscale.monitoring.dashboard import dashboard, datasources
from pyscale.monitoring.node import (
    ADMIN_PORTS,
    MonitorSecrets,
    monitor_node,
    placeholder_monitor_secrets,
)
from pyscale.monitoring.rules import NEAR, Alert, alerts, rule_file
from pyscale.monitoring.scrape import RULES_FILE, StoreTargets, prometheus_config

__all__ = [
    "ADMIN_PORTS",
    "NEAR",
    "RULES_FILE",
    "Alert",
    "MonitorSecrets",
    "StoreTargets",
    "alerts",
    "dashboard",
    "datasources",
    "monitor_node",
    "placeholder_monitor_secrets",
    "prometheus_config",
    "rule_file",
]
