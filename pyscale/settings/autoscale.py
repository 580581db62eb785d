"""The `autoscale` group: a fleet that scales itself between two node counts the capacity
plan derives (or the stack sets), instead of the fixed `nodeCount`. Declared here, beside the
rest (declarations.py includes it in `SETTINGS`), with the rules that tie it to the other
settings (rules.py runs them; OVHcloud adds its own refusal of VMs in its settings rules).

What scales depends on the platform: on DigitalOcean VMs a Droplet autoscale pool (its
members boot from the same user-data as fixed nodes); on Kubernetes, on both clouds, the node
pool (the cluster autoscaler), with the pods' HorizontalPodAutoscaler free to use all of it.
Every optional key left unset is decided by the capacity plan (pyscale/capacity/autoscale.py),
as `nodeCount` and `rollout.batchSize` are.

Ranges are the providers' (DigitalOcean API, "Create a New Autoscale Pool"; openapi
autoscale_pool_dynamic_config.yml): min_instances 1-500, max_instances 1-1000, target CPU and
memory utilisation 0.05-1, cooldown_minutes 5-20. pyscale asks at least 2 of either bound: a
pool sits behind a load balancer and holds its load with one member down (N+1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pyscale.clouds.base import SettingRule
from pyscale.settings.kinds import Boolean, Decimal, Integer
from pyscale.settings.spec import Group, Setting

# The providers' bounds (module docstring).
MIN_NODES_HIGH = 500
MAX_NODES_HIGH = 1000
COOLDOWN_MINUTES = (5, 20)
UTILISATION = (0.05, 1.0)
# Without autoscale.peakConcurrency the pool may grow to hold this many times the baseline
# (targetConcurrency): a spike that doubles the traffic, the case the pool exists for.
# Measure your own peak and set it; the plan refuses a maximum past the cloud's ceilings.
PEAK_FACTOR = 2
# Without autoscale.cpuTarget the pool keeps its members' CPU at the ceiling a fixed node is
# sized to (capacity.seeds.CPU_UTILISATION_CEILING; tests/unit pins the two together).
DEFAULT_CPU_TARGET = 0.7

AUTOSCALE_GROUPS = (
    Group(
        "autoscale",
        "A fleet that scales itself between a minimum and a maximum node count, its "
        "budgets checked at the maximum.",
    ),
)

AUTOSCALE = (
    Setting(
        "autoscale.enabled",
        Boolean(),
        "Let the fleet scale itself: a DigitalOcean Droplet autoscale pool on VMs, the node "
        "pool's cluster autoscaler on Kubernetes (both clouds). Off: nodeCount nodes, fixed.",
        False,
    ),
    Setting(
        "autoscale.minNodes",
        Integer(2, MIN_NODES_HIGH),
        "The fewest nodes the pool keeps; they must hold targetConcurrency with one down.",
        unit="nodes",
        unset="the plan's count for targetConcurrency with one spare node (N+1)",
    ),
    Setting(
        "autoscale.maxNodes",
        Integer(2, MAX_NODES_HIGH),
        "The most nodes the pool may grow to; every budget (database connections, cache "
        "clients, load-balancer units, trusted sources, rollouts) is checked at this count.",
        unit="nodes",
        unset="the plan's count for autoscale.peakConcurrency with one spare node (N+1)",
    ),
    Setting(
        "autoscale.peakConcurrency",
        Integer(1, 10_000_000),
        "The concurrent requests the pool must hold at its maximum (the spike); the load "
        "balancer is sized for it.",
        unit="concurrent requests",
        unset=f"{PEAK_FACTOR} x targetConcurrency",
    ),
    Setting(
        "autoscale.cpuTarget",
        Decimal(*UTILISATION),
        "The average CPU use (0.05-1) the pool scales to keep: a Droplet pool's "
        "target_cpu_utilization, the HorizontalPodAutoscaler's target on Kubernetes.",
        unset=f"{DEFAULT_CPU_TARGET:g}, the CPU ceiling the plan sizes a node to",
    ),
    Setting(
        "autoscale.memoryTarget",
        Decimal(*UTILISATION),
        "The average memory use (0.05-1) a Droplet pool also scales on (VMs only: the pods' "
        "autoscaler scales on CPU).",
        unset="memory is not a scaling metric",
    ),
    Setting(
        "autoscale.cooldownMinutes",
        Integer(*COOLDOWN_MINUTES),
        "Minutes between two scaling events: a new member boots and turns healthy within "
        "it before the pool acts again (or, on a configuration change, before it destroys "
        "the member it replaces); on Kubernetes, how long a node stays unneeded before the "
        "cluster autoscaler removes it.",
        unit="min",
        unset="rollout.healthTimeoutSeconds in whole minutes (at least 5)",
    ),
)


def enabled(v: Mapping[str, Any]) -> bool:
    return bool(v["autoscale.enabled"])


def cooldown_minutes(chosen: int | None, health_timeout_s: int) -> int:
    """The cooldown: the stack's, else the time a new node has to turn healthy, in whole
    minutes, within what the provider allows (a health timeout past its longest cooldown is
    refused by a rule)."""
    if chosen is not None:
        return chosen
    low, high = COOLDOWN_MINUTES
    return min(high, max(low, math.ceil(health_timeout_s / 60)))


def _no_node_count(v: Mapping[str, Any]) -> str | None:
    if not enabled(v) or v["nodeCount"] is None:
        return None
    if v["nodeCount"] == 1:
        return (
            "the single-node topology (nodeCount 1, dev's default) has no load balancer to "
            "spread a pool behind: autoscale runs in staging or prod, or set "
            "autoscale.enabled: false"
        )
    return (
        "a fleet that scales itself has no fixed count: remove nodeCount and bound the pool "
        "with autoscale.minNodes and autoscale.maxNodes (or leave them to the plan)"
    )


def _min_within_max(v: Mapping[str, Any]) -> str | None:
    low, high = v["autoscale.minNodes"], v["autoscale.maxNodes"]
    if low is not None and high is not None and low > high:
        return f"must not exceed autoscale.maxNodes ({high}): lower it or raise maxNodes"
    return None


def _peak_above_baseline(v: Mapping[str, Any]) -> str | None:
    peak, target = v["autoscale.peakConcurrency"], v["targetConcurrency"]
    if peak is not None and peak < target:
        return (
            f"is below targetConcurrency ({target:,}), which the pool holds at its minimum: "
            "the peak is at least the baseline"
        )
    return None


def _pool_paces_rollout(v: Mapping[str, Any]) -> str | None:
    if enabled(v) and v["platform"] == "vms" and v["rollout.batchSize"] is not None:
        return (
            "a Droplet autoscale pool replaces its own members on a configuration change, "
            "pacing them by autoscale.cooldownMinutes: remove rollout.batchSize"
        )
    return None


def _health_within_cooldown(v: Mapping[str, Any]) -> str | None:
    if not enabled(v) or v["platform"] != "vms":
        return None
    timeout = v["rollout.healthTimeoutSeconds"]
    cooldown = cooldown_minutes(v["autoscale.cooldownMinutes"], timeout)
    if timeout <= cooldown * 60:
        return None
    longest = COOLDOWN_MINUTES[1]
    raise_it = (
        f", or raise autoscale.cooldownMinutes (at most {longest})" if cooldown < longest else ""
    )
    return (
        f"is longer than the pool's cooldown ({cooldown} min): on a configuration change "
        "DigitalOcean destroys a member once its successor has had the cooldown, healthy or "
        f"not; lower it to {cooldown * 60} s or less{raise_it}"
    )


def _memory_on_vms(v: Mapping[str, Any]) -> str | None:
    if v["autoscale.memoryTarget"] is not None and v["platform"] == "kubernetes":
        return (
            "the pods' HorizontalPodAutoscaler scales on CPU (their memory limit is fixed by "
            "the plan); remove it with platform: kubernetes"
        )
    return None


def _needs_enabled(key: str) -> SettingRule:
    """`key` set while autoscale is off would be silently unused: refused instead."""

    def refuse(v: Mapping[str, Any]) -> str | None:
        if v[key] is not None and not enabled(v):
            return "has no effect with a fixed fleet: set autoscale.enabled: true, or remove it"
        return None

    return SettingRule(key, ("autoscale.enabled",), "only with autoscale.enabled", refuse)


AUTOSCALE_RULES = (
    SettingRule(
        "nodeCount",
        ("autoscale.enabled",),
        "unset with autoscale.enabled (the pool's bounds replace it)",
        _no_node_count,
    ),
    SettingRule("autoscale.minNodes", ("autoscale.maxNodes",), "at most maxNodes", _min_within_max),
    SettingRule(
        "autoscale.peakConcurrency",
        ("targetConcurrency",),
        "at least targetConcurrency",
        _peak_above_baseline,
    ),
    SettingRule(
        "rollout.batchSize",
        ("autoscale.enabled", "platform"),
        "unset with a Droplet autoscale pool (it paces its own replacements)",
        _pool_paces_rollout,
    ),
    SettingRule(
        "rollout.healthTimeoutSeconds",
        ("autoscale.enabled", "autoscale.cooldownMinutes", "platform"),
        "within autoscale.cooldownMinutes with a Droplet autoscale pool",
        _health_within_cooldown,
    ),
    SettingRule(
        "autoscale.memoryTarget", ("platform",), "VMs only (a Droplet pool)", _memory_on_vms
    ),
    *(
        _needs_enabled(f"autoscale.{key}")
        for key in (
            "minNodes",
            "maxNodes",
            "peakConcurrency",
            "cpuTarget",
            "memoryTarget",
            "cooldownMinutes",
        )
    ),
)
