"""How a change that replaces nodes rolls out: batches, the health gate, the drain.

A node file change (a template, a Gunicorn setting, the image) gives every node new
user-data, which the clouds cannot apply in place: every node is replaced. Pulumi creates a
replacement before it deletes the old resource, but it deletes the old ones only at the end
of the update, and a droplet or instance counts as created long before cloud-init has
installed anything (findings D15). pyscale therefore replaces nodes in batches: each new
node must be reported healthy by the load balancer itself before the node it replaces
drains and stops, and the next batch starts only then (components/gate.py).

During a batch the `batch_size` nodes being replaced are counted as serving nothing (the
old ones drain, the new ones are not yet proven under load), so the remaining nodes must
hold the target; the default batch is the plan's spare nodes (1 with N+1). Old and new
nodes of one batch are up together, so the database and cache budgets must take
`nodes + batch_size` nodes' pools.

A DigitalOcean Droplet autoscale pool (autoscale.enabled on VMs, `by_pool`) is not replaced
by Pulumi: a new user-data is an in-place update of the pool's template, and DigitalOcean
replaces the members itself (a CONFIGURATION_CHANGE event), booting new ones and destroying
the old ones once the cooldown has passed. How many at a time it does not say, so the plan
takes the worst case, the whole pool at once: old and new members up together, the old ones
serving meanwhile (the new ones are not counted until proven). No per-node gate can hold an
old member back; the cooldown is the pool's gate, and the settings keep it at least
`rollout.healthTimeoutSeconds`. `pulumi up` returns once DigitalOcean has the new template:
the replacement goes on after it (`doctl compute droplet-autoscale list-history <pool id>`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HealthCheckTiming:
    """The load balancer's health check, the same on both clouds (DigitalOcean's defaults:
    openapi health_check.yml, terraform-provider-digitalocean resource_loadbalancer.go;
    OVHcloud's Octavia monitor is set to match)."""

    interval_s: int = 10
    timeout_s: int = 5
    unhealthy_threshold: int = 3
    healthy_threshold: int = 3

    @property
    def detect_down_s(self) -> int:
        """The longest a failing node keeps receiving new requests: the failing checks in a
        row, each up to its timeout, the first one starting up to an interval late."""
        return self.interval_s * self.unhealthy_threshold + self.timeout_s

    @property
    def detect_up_s(self) -> int:
        """The longest a node that answers keeps waiting to be admitted."""
        return self.interval_s * self.healthy_threshold + self.timeout_s


LB_HEALTH = HealthCheckTiming()
# A draining node must finish a request this many times the workload's mean latency after
# the load balancer has stopped sending it new ones (the tail, not the mean, is what a
# rollout cuts). Below FINISH_MIN_S, Nginx's own shutdown is the limit.
FINISH_LATENCY_MULTIPLE = 3
FINISH_MIN_S = 5
# The gate's poll interval, and how many healthy answers in a row it wants: a node that
# flaps (healthy, then failing again) resets the count, so one lucky check admits nothing.
POLL_INTERVAL_S = 5
HEALTHY_IN_A_ROW = 3
# The gate's type token as Pulumi registers it (components/gate.py: a dynamic resource
# named HealthGate in module pyscale).
GATE_TYPE = "pulumi-python:dynamic/pyscale:HealthGate"


@dataclass(frozen=True)
class RolloutPlan:
    """What replacing every node does: `batches` batches of at most `batch_size`, each node
    gated on the load balancer's health (`gated`) within `health_timeout_s`, the old node
    then draining for `drain_s`: `detect_s` failing its health check while the load
    balancer notices, then up to `finish_s` finishing in-flight requests."""

    nodes: int
    batch_size: int
    batch_size_default: bool  # not set by the stack: chosen by the plan
    spare_nodes: int  # nodes beyond what the target needs (N+1: 1)
    gated: bool  # False without a load balancer (single node): nothing to gate on
    health_timeout_s: int
    drain_s: int
    detect_s: int
    finish_s: int
    finish_needed_s: int  # what the workload's requests need to finish
    poll_interval_s: int = POLL_INTERVAL_S
    healthy_in_a_row: int = HEALTHY_IN_A_ROW
    # The cloud's autoscale pool replaces the members itself, the whole pool at once at
    # worst, the old ones serving until the new ones have had the cooldown.
    by_pool: bool = False

    @property
    def batches(self) -> int:
        return math.ceil(self.nodes / self.batch_size)

    @property
    def peak_nodes(self) -> int:
        """Nodes up at once during a batch: every old node, plus the batch's new ones."""
        return self.nodes + (min(self.batch_size, self.nodes) if self.gated else 0)

    @property
    def serving_during_batch(self) -> int:
        """Nodes counted on to serve while a batch is replaced (a pool's old members serve
        until the cooldown has passed)."""
        return self.nodes if self.by_pool else max(self.nodes - self.batch_size, 0)

    def describe(self) -> str:
        """One line for the plan and the PR diff."""
        noun = "node" if self.nodes == 1 else "nodes"
        if not self.gated:
            return (
                f"{self.nodes} {noun} replaced at once, not gated: no load balancer to ask; "
                "the service is down while the new node boots"
            )
        if self.by_pool:
            return (
                f"up to {self.nodes} pool {noun} replaced by the cloud on a template change, "
                "new members booting for the cooldown before the old ones shut down "
                f"(drain {self.drain_s} s); not gated node by node"
            )
        batch = "batch" if self.batches == 1 else "batches"
        return (
            f"{self.nodes} {noun} replaced in {self.batches} {batch} of {self.batch_size}, "
            f"each gated on LB health (timeout {self.health_timeout_s} s), "
            f"old node drains {self.drain_s} s"
        )


def rollout_plan(
    *,
    nodes: int,
    needed_nodes: int,
    load_balanced: bool,
    batch_size: int,
    batch_size_default: bool,
    health_timeout_s: int,
    drain_s: int | None,
    latency_ms: int,
    health: HealthCheckTiming = LB_HEALTH,
    by_pool: bool = False,
) -> RolloutPlan:
    """The rollout for `nodes` nodes of which `needed_nodes` hold the target; `drain_s`
    None drains for the load balancer's detection time plus what requests need to finish."""
    spare = max(nodes - needed_nodes, 0)
    detect = health.detect_down_s if load_balanced else 0
    finish_needed = max(FINISH_MIN_S, math.ceil(FINISH_LATENCY_MULTIPLE * latency_ms / 1000))
    drain_s = drain_s if drain_s is not None else detect + finish_needed
    return RolloutPlan(
        nodes=nodes,
        batch_size=batch_size,
        batch_size_default=batch_size_default,
        spare_nodes=spare,
        gated=load_balanced,
        health_timeout_s=health_timeout_s,
        drain_s=drain_s,
        detect_s=detect,
        finish_s=max(drain_s - detect, 0),
        finish_needed_s=finish_needed,
        by_pool=by_pool,
    )
