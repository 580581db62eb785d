"""The capacity plan of a fleet that scales itself (autoscale.enabled): its bounds, and every
budget checked at the maximum.

A pool's members come and go, so what the stack's fixed parts must take is what the largest
pool sends them: the plan is derived for the *maximum* node count holding the *peak*
(`autoscale.peakConcurrency`) through the same model as a fixed fleet (database and cache
pools per process, load-balancer units, the databases' trusted sources, rollouts), and the
minimum is checked to hold the baseline (`targetConcurrency`) with one node down. Bounds
left unset are the fixed fleet's own counts: the minimum is the N+1 count for the baseline,
the maximum the N+1 count for the peak.

On VMs the pool (a DigitalOcean Droplet autoscale pool) replaces its members itself on a
configuration change: the rollout is the whole pool at once, old members serving until the
new ones have had the cooldown (pyscale/rollout/plan.py, `by_pool`), so old and new together
must fit the budgets, and a leaving member must drain within the wait the cloud gives it
between shutdown and destroy. On Kubernetes the node pool's cluster autoscaler adds nodes
when pods are pending: the HorizontalPodAutoscaler may use every pod the maximum holds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyscale import clouds
from pyscale.capacity import pods
from pyscale.capacity.checks import Check
from pyscale.capacity.throughput import target_rps
from pyscale.settings import Settings
from pyscale.settings.autoscale import DEFAULT_CPU_TARGET, PEAK_FACTOR, cooldown_minutes

if TYPE_CHECKING:
    from pyscale.capacity.model import CapacityPlan

# The cluster autoscaler removes a node whose pods' requests use less than this share of it
# (once it has been unneeded for the cooldown): its upstream default (kubernetes/autoscaler
# cluster-autoscaler FAQ, --scale-down-utilization-threshold 0.5), set explicitly so that
# DOKS and OVHcloud's MKS behave alike.
SCALE_DOWN_UTILIZATION = 0.5


@dataclass(frozen=True)
class AutoscalePlan:
    """The pool's bounds and targets. The plan it belongs to is derived at `max_nodes` for
    `peak_concurrency`; `min_nodes` holds `baseline_concurrency` with one node down."""

    min_nodes: int
    max_nodes: int
    baseline_concurrency: int  # targetConcurrency
    baseline_rps: int
    peak_concurrency: int
    cpu_target: float  # 0.05-1: the average CPU use the pool scales to keep
    memory_target: float | None  # VMs only; None: memory is not a scaling metric
    cooldown_minutes: int
    # Kubernetes: the node-pool share below which the cluster autoscaler removes a node.
    scale_down_utilization: float
    # VMs: seconds the cloud waits between a member's shutdown and its destruction (None:
    # the pool is a Kubernetes node pool, whose nodes the autoscaler drains of their pods).
    shutdown_grace_s: int | None

    def at_maximum(self, p: CapacityPlan, found: list[Check]) -> list[Check]:
        """The fixed fleet's checks, said at the maximum (where a fix is a smaller
        maximum, not a nodeCount), then the pool's own."""
        renamed = [
            dataclasses.replace(
                c,
                link=f"at the pool's maximum ({self.max_nodes} nodes): {c.link}",
                setting=_at_maximum(c.setting, p.rollout.by_pool),
            )
            for c in found
        ]
        return renamed + self.checks(p)

    def checks(self, p: CapacityPlan) -> list[Check]:
        """The minimum holds the baseline (N+1), the bounds are in order, and on VMs a
        member leaving the pool drains before the cloud destroys it."""
        one_down = max(self.min_nodes - 1, 1)
        minimum = "pyscale:autoscale.minNodes or pyscale:nodeSize"
        found = [
            Check(
                "pool minimum with one node down (N+1) holds the baseline (targetConcurrency)",
                one_down * p.per_node_concurrency,
                self.baseline_concurrency,
                minimum,
            ),
            Check(
                "pool minimum CPU req/s with one node down >= baseline req/s",
                one_down * p.throughput.node_rps_ceiling,
                self.baseline_rps,
                minimum,
                throughput=True,
            ),
            Check(
                "pool maximum >= pool minimum (nodes)",
                self.max_nodes,
                self.min_nodes,
                "pyscale:autoscale.maxNodes or pyscale:autoscale.minNodes",
            ),
        ]
        if self.shutdown_grace_s is not None and p.rollout.gated:
            found.append(
                Check(
                    "pool member drain <= the cloud's wait from shutdown to destroy (s)",
                    self.shutdown_grace_s,
                    p.rollout.drain_s,
                    "pyscale:rollout.drainSeconds",
                )
            )
        return found


# What a fixed fleet's check names to change, and what it is at a pool's maximum (a pool's
# own rollout, on VMs, takes no batch size: the cloud replaces the members).
AT_MAXIMUM = {
    "pyscale:nodeCount": "pyscale:autoscale.maxNodes",
    "pyscale:targetConcurrency": "pyscale:autoscale.peakConcurrency",
}
BY_POOL = {"pyscale:rollout.batchSize": "pyscale:autoscale.maxNodes"}


def _at_maximum(setting: str, by_pool: bool) -> str:
    """`setting` (settings joined by ", " and " or ") with the pool's keys for the fixed
    fleet's, each named once."""
    names = AT_MAXIMUM | (BY_POOL if by_pool else {})
    parts = [names.get(part, part) for part in re.split(r", | or ", setting)]
    return " or ".join(dict.fromkeys(parts))


Derive = Callable[[Settings], "CapacityPlan"]


def pool_plan(settings: Settings, derive: Derive) -> CapacityPlan:
    """The plan of an autoscaling fleet: `derive` (the fixed fleet's model) run for the
    baseline and the peak to find the default bounds, then at the maximum for the peak."""
    chosen = settings.autoscale
    peak = chosen.peak_concurrency or PEAK_FACTOR * settings.target_concurrency
    minimum = chosen.min_nodes or derive(settings).nodes
    at_peak = dataclasses.replace(settings, target_concurrency=peak)
    maximum = chosen.max_nodes or derive(at_peak).nodes
    result = derive(dataclasses.replace(at_peak, node_count=maximum))
    cpu_target = chosen.cpu_target or DEFAULT_CPU_TARGET
    shutdown = clouds.get(settings.cloud).catalog.pool_shutdown_s
    pool = AutoscalePlan(
        min_nodes=minimum,
        max_nodes=maximum,
        baseline_concurrency=settings.target_concurrency,
        baseline_rps=target_rps(settings),
        peak_concurrency=peak,
        cpu_target=cpu_target,
        memory_target=chosen.memory_target,
        cooldown_minutes=cooldown_minutes(
            chosen.cooldown_minutes, settings.rollout.health_timeout_seconds
        ),
        scale_down_utilization=SCALE_DOWN_UTILIZATION,
        shutdown_grace_s=None if settings.on_kubernetes else shutdown,
    )
    if result.pods is not None:
        # The pods' autoscaler: from the baseline's pods plus one node's (N+1) up to every
        # pod the maximum holds, scaling on the pool's CPU target.
        baseline_pods = pods.pod_plan(
            settings,
            nodes=maximum,
            node_gunicorn=result.gunicorn,
            kernel=result.kernel,
            rollout=result.rollout,
            node_rps_ceiling=result.throughput.node_rps_ceiling,
            target_rps=pool.baseline_rps,
        )
        scaled = dataclasses.replace(baseline_pods, hpa_cpu_percent=round(cpu_target * 100))
        result = dataclasses.replace(result, pods=scaled)
    return dataclasses.replace(result, autoscale=pool)
