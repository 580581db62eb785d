"""What DigitalOcean does with pyscale's settings beyond its catalog: the OVHcloud-only keys it
refuses, and the 2 GB floor for standby nodes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import SettingRule, SettingsRules
from pyscale.clouds.digitalocean.catalog import STANDBY_MIN_MEMORY_GIB


def _standby_floor(values: Mapping[str, Any]) -> str | None:
    """DigitalOcean "Add standby nodes": standbys need a plan with at least 2 GB of RAM."""
    size, floor = values["database.size"], STANDBY_MIN_MEMORY_GIB
    if values["database.standbyNodes"] and size.memory_gib < floor:
        return (
            f"DigitalOcean standby nodes need a database size with at least {floor} GB; "
            f"{size.name} has {size.memory_gib} GB: raise database.size or set standbyNodes: 0"
        )
    return None


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
    ),
)
