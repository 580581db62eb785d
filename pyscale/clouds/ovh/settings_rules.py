"""What OVHcloud does with pyscale's settings beyond its catalog: the settings its wiring does
not apply (refused rather than silently dropped), the values it lists but would not honour
(each with the rule and its source), the project id it needs, and read replicas that are the
service plan's standby nodes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import DerivedDefault, Fact, Refusal, SettingRule, SettingsRules
from pyscale.clouds.ovh import catalog
from pyscale.clouds.ovh.catalog import DATABASE_PLANS

# One key pair per instance: cloudInstance takes a single sshKey name (components/ovh/nodes).
MAX_SSH_KEYS = 1
# Standby nodes per plan, for messages: "essential: 0, business: 1, enterprise: 2".
PLAN_STANDBYS = ", ".join(f"{name}: {nodes - 1}" for name, nodes in DATABASE_PLANS.items())


def _plan_standbys(values: Mapping[str, Any]) -> int:
    """The plan's standby nodes: every node but the primary serves the read-only endpoint."""
    return DATABASE_PLANS[values["database.ovhPlan"]] - 1


def _replicas_within_plan(values: Mapping[str, Any]) -> str | None:
    standbys = _plan_standbys(values)
    if values["database.readReplicas"] > standbys:
        return (
            f"OVHcloud plan '{values['database.ovhPlan']}' has {standbys} standby node(s) to "
            f"read from; raise database.ovhPlan ({PLAN_STANDBYS})"
        )
    return None


def _one_ssh_key(values: Mapping[str, Any]) -> str | None:
    if len(values["sshKeys"]) > MAX_SSH_KEYS:
        return (
            f"an OVHcloud instance is created with {MAX_SSH_KEYS} key pair and pyscale would "
            "drop the others; list one key name"
        )
    return None


def _alerts_need_monitoring_node(values: Mapping[str, Any]) -> str | None:
    if (values["alerts.emails"] or values["alerts.slackChannel"]) and not values["monitoring.node"]:
        return (
            "OVHcloud's provider alerts only on spending, so alerts go through the stack's "
            "monitoring node: set monitoring.node: true, or remove alerts.emails and "
            "alerts.slackChannel"
        )
    return None


def _managed_needs_kubernetes(v: Mapping[str, Any]) -> str | None:
    # OVHcloud's load balancer issues no certificate; cert-manager in the cluster does.
    if v["tls"] == "managed" and v["platform"] == "vms":
        return (
            "OVHcloud's load balancer has no managed certificate: on VMs use 'certificate' "
            "(one uploaded to the key manager), 'node' or 'off'; 'managed' (cert-manager "
            "with Let's Encrypt) needs platform: kubernetes"
        )
    return None


def _no_instance_autoscaling(v: Mapping[str, Any]) -> str | None:
    if v["autoscale.enabled"] and v["platform"] == "vms":
        return (
            f"{catalog.NO_INSTANCE_AUTOSCALING}: set platform: kubernetes (the node pool then "
            "scales between autoscale.minNodes and autoscale.maxNodes), or "
            "autoscale.enabled: false for a fixed nodeCount"
        )
    return None


RULES = SettingsRules(
    ignored={
        "database.standbyNodes": (
            "the OVHcloud plan fixes the standby nodes; set database.ovhPlan instead "
            f"({PLAN_STANDBYS})"
        ),
        "database.replicaRegion": (
            "OVHcloud read replicas are the plan's standby nodes, in the stack's region; remove it"
        ),
        "database.maintenanceDay": (
            "OVHcloud takes only a daily start time; remove it and keep database.maintenanceHour"
        ),
        "cache.evictionPolicy": (
            "OVHcloud does not let clients set maxmemory-policy (no such advanced parameter, "
            f"no CONFIG command), so Valkey keeps its {catalog.ENGINE_EVICTION_POLICY}; remove "
            "the key (the app sets a TTL on every cache key)"
        ),
        "monitoringToken": (
            "the OVHcloud monitoring node lists the instances with a read-only OpenStack user "
            "the stack creates itself; remove it"
        ),
    },
    required=("ovhServiceName",),
    derived_defaults=(
        DerivedDefault(
            key="database.readReplicas",
            needs=("database.ovhPlan",),
            doc="the standby nodes of database.ovhPlan",
            value=_plan_standbys,
        ),
    ),
    rules=(
        SettingRule(
            key="tls",
            needs=("platform",),
            doc="managed only with platform: kubernetes (cert-manager)",
            refuse=_managed_needs_kubernetes,
        ),
        SettingRule(
            key="alerts.emails",
            needs=("alerts.slackChannel", "monitoring.node"),
            doc="alerts go through the monitoring node (monitoring.node: true)",
            refuse=_alerts_need_monitoring_node,
        ),
        SettingRule(
            key="database.readReplicas",
            needs=("database.ovhPlan",),
            doc="at most the standby nodes of database.ovhPlan",
            refuse=_replicas_within_plan,
        ),
        SettingRule(
            key="autoscale.enabled",
            needs=("platform",),
            doc="only with platform: kubernetes (node-pool autoscaling; no instance autoscaling)",
            refuse=_no_instance_autoscaling,
        ),
        SettingRule(
            key="sshKeys",
            needs=(),
            doc=f"at most {MAX_SSH_KEYS} key (one key pair per instance)",
            refuse=_one_ssh_key,
            schema={"maxItems": MAX_SSH_KEYS},
        ),
    ),
    refused=(
        Refusal("region", catalog.NO_POSTGRES_REGIONS, catalog.NO_POSTGRES),
        *(
            Refusal(
                "database.version",
                (version,),
                Fact(
                    f"PostgreSQL {version} reached its end of life on {end}, when OVHcloud "
                    "upgrades running services to its latest version: a new service would not "
                    f"stay {version}",
                    catalog.LIFECYCLE,
                ),
            )
            for version, end in catalog.RETIRED_POSTGRES.items()
        ),
    ),
)
