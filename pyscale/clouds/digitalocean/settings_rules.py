"""What DigitalOcean does with pyscale's settings beyond its catalog: the OVHcloud-only keys it
refuses, the values its API lists but would refuse (each with the rule and its source), the
2 GB floor for standby nodes, the databases' trusted-source ceiling on nodes, what a Droplet
autoscale pool's template demands (SSH keys) and lacks (backups), and the alert e-mails it
demands be verified."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import Fact, Refusal, SettingRule, SettingsRules
from pyscale.clouds.digitalocean import catalog
from pyscale.clouds.digitalocean.catalog import MAX_NODES, STANDBY_MIN_MEMORY_GIB


def _standby_floor(values: Mapping[str, Any]) -> str | None:
    """DigitalOcean "Add standby nodes": standbys need a plan with at least 2 GB of RAM."""
    size, floor = values["database.size"], STANDBY_MIN_MEMORY_GIB
    if values["database.standbyNodes"] and size.memory_gib < floor:
        return (
            f"DigitalOcean standby nodes need a database size with at least {floor} GB; "
            f"{size.name} has {size.memory_gib} GB: raise database.size or set standbyNodes: 0"
        )
    return None


def _trusted_nodes(values: Mapping[str, Any]) -> str | None:
    """Every node, and the monitoring node, must reach the databases through their
    firewalls' trusted sources."""
    count, monitor = values["nodeCount"], int(values["monitoring.node"])
    if count is not None and count + monitor > MAX_NODES.value:
        with_monitor = ", the monitoring node counting as one of them" if monitor else ""
        return f"{MAX_NODES.fact}{with_monitor}; use a larger nodeSize with fewer nodes"
    return None


def _pool(v: Mapping[str, Any]) -> bool:
    """A Droplet autoscale pool: autoscale on VMs."""
    return bool(v["autoscale.enabled"]) and v["platform"] == "vms"


def _pool_ssh_keys(v: Mapping[str, Any]) -> str | None:
    if _pool(v) and not v["sshKeys"]:
        return f"{catalog.POOL_SSH_KEYS}: list at least one key's fingerprint or id"
    return None


def _pool_backups(v: Mapping[str, Any]) -> str | None:
    if _pool(v) and v["backups"]:
        return (
            f"{catalog.POOL_NO_BACKUPS}: set backups: false (the state lives in the managed "
            "PostgreSQL, which keeps its own backups)"
        )
    return None


def _reserved_overlap(values: Mapping[str, Any]) -> str | None:
    vpc = ipaddress.ip_network(values["vpcCidr"])
    hit = [r for r in catalog.RESERVED_VPC_RANGES if vpc.overlaps(ipaddress.ip_network(r))]
    if hit:
        return f"overlaps {', '.join(hit)}: {catalog.RESERVED_VPC}; choose another range"
    return None


def _region_refusals() -> tuple[Refusal, ...]:
    """One refusal per region DigitalOcean has but a stack cannot be built in, naming all it
    lacks."""
    found = []
    for region in (*catalog.DROPLET_REGIONS, *catalog.LEGACY_REGIONS):
        missing = catalog.missing_in(region)
        if missing:
            lacks = " and no ".join(what for what, _ in missing)
            sources = "; ".join(source for _, source in missing)
            fact = Fact(f"DigitalOcean offers no {lacks} in {region}", sources)
            found.append(Refusal("region", (region,), fact))
    return tuple(found)


def _retired_versions() -> tuple[Refusal, ...]:
    """PostgreSQL versions past their end of availability: no new cluster is created."""
    return tuple(
        Refusal(
            "database.version",
            (version,),
            Fact(
                f"DigitalOcean stopped creating PostgreSQL {version} clusters on "
                f"{a.end_of_availability} (its end of availability; end of life "
                f"{a.end_of_life})",
                f"{catalog.OPTIONS}: version_availability.pg",
            ),
        )
        for version, a in catalog.RETIRED_POSTGRES.items()
    )


RULES = SettingsRules(
    ignored={
        "ovhServiceName": "it names an OVHcloud Public Cloud project; remove it",
        "database.ovhPlan": (
            "a DigitalOcean cluster is sized by database.standbyNodes and "
            "database.readReplicas; remove it"
        ),
    },
    rules=(
        SettingRule(
            key="database.standbyNodes",
            needs=("database.size",),
            doc=f"standbys need a database size of at least {STANDBY_MIN_MEMORY_GIB} GB",
            refuse=_standby_floor,
        ),
        SettingRule(
            key="vpcCidr",
            needs=(),
            doc="may not overlap " + ", ".join(catalog.RESERVED_VPC_RANGES),
            refuse=_reserved_overlap,
        ),
        SettingRule(
            key="nodeCount",
            needs=("monitoring.node",),
            doc=f"at most {MAX_NODES.value}, the monitoring node included (database trusted "
            "sources: a droplet counts 2)",
            refuse=_trusted_nodes,
            schema={"maximum": MAX_NODES.value},
        ),
        SettingRule(
            key="sshKeys",
            needs=("autoscale.enabled", "platform"),
            doc="at least one with a Droplet autoscale pool (autoscale on VMs)",
            refuse=_pool_ssh_keys,
        ),
        SettingRule(
            key="backups",
            needs=("autoscale.enabled", "platform"),
            doc="false with a Droplet autoscale pool (its members take no backups)",
            refuse=_pool_backups,
        ),
    ),
    refused=(
        *_region_refusals(),
        *_retired_versions(),
        Refusal("cache.version", ("7",), catalog.VALKEY_ONLY_8),
        Refusal("cache.evictionPolicy", ("allkeys-lfu", "volatile-lfu"), catalog.NO_LFU),
        Refusal("database.size", ("db-s-8vcpu-32gb", "db-s-16vcpu-64gb"), catalog.NOT_FOR_POSTGRES),
    ),
    unchecked={"alerts.emails": catalog.ALERT_EMAILS_VERIFIED},
)
