"""Monitoring derived from the capacity plan: Prometheus alert rules whose thresholds are the
plan's own limits."""

from pyscale.monitoring.rules import NEAR, Alert, alerts, rule_file

__all__ = ["NEAR", "Alert", "alerts", "rule_file"]
