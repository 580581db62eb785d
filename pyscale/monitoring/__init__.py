"""Monitoring derived from the capacity plan: Prometheus alert rules whose thresholds are the
plan's own limits, and the scrape configuration that finds the nodes through the cloud."""

from pyscale.monitoring.rules import NEAR, Alert, alerts, rule_file
from pyscale.monitoring.scrape import RULES_FILE, prometheus_config

__all__ = ["NEAR", "RULES_FILE", "Alert", "alerts", "prometheus_config", "rule_file"]
