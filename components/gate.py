"""`pyscale:HealthGate`: a replaced node's old self leaves only after its successor serves.

A dynamic resource per node, on both clouds, whose inputs are the node's id and what the
load balancer calls it (pyscale/rollout). Replacing a node gives the gate a new node id, an
update, in which the provider:

1. waits until the load balancer itself reports the new node healthy (the gate,
   pyscale/rollout/gate.py: in_a_row healthy answers within rollout.healthTimeoutSeconds);
   on timeout the update fails, the old node is never touched and keeps serving, and
   Pulumi deletes nothing (it deletes replaced resources only at the end of an update);
2. then asks the cloud for a graceful shutdown of the old node and waits for it (up to
   rollout.drainSeconds and a margin): the node fails its health check, the load balancer
   stops sending, Nginx and Gunicorn finish in-flight requests (pyscale-drain.service).

The next batch's nodes depend on this batch's gates (components/<cloud>/nodes.py), so at
most rollout.batchSize new nodes boot at a time, and old and new nodes of a batch are the
only ones up together. A new stack's or an added node's gate waits for health too: `pulumi
up` returns when the nodes serve, not when the cloud says "active" (findings D15). Deleting
a gate (a node removed, or the stack destroyed) drains its node first, best effort.

Why a dynamic resource and not Pulumi resource hooks or the deploy workflow: a dynamic
provider's `update` receives both the old and the new node id, so it knows exactly which
node to drain once the new one serves; its failure fails the step, stops the dependent
batch and keeps the old nodes, on `pulumi up` from any shell, the deploy workflow or the
Automation API alike; and it shows in the preview as what it is (`~ HealthGate`). A hook
sees one resource at a time and would have to find the node's predecessor by itself. The
offline engine registers gates but never runs providers: the gate logic is tested on its
own (tests/unit/test_gate.py) and by `python -m bench.rollout` against a real load balancer.

Credentials come from the environment of `pulumi up`, as the providers' own do
(DIGITALOCEAN_TOKEN; OVH_ENDPOINT and OVH_APPLICATION_*/OVH_CONSUMER_KEY): nothing secret
is stored in the gate's state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from pyscale import clouds
from pyscale.rollout import RolloutPlan, wait_until_healthy

# Beyond drainSeconds: the cloud's own shutdown (ACPI, then power off) takes a little more.
STOP_MARGIN_S = 30
# The input whose change means a new node: the update gates it and drains the old one (any
# other changed input is recorded in place).
NODE_INPUT = "node_id"


def _gate(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Wait for props' node to be healthy; the answers, for the state."""
    api = clouds.get(props["cloud"]).node_api(props["target"], os.environ)
    seen = wait_until_healthy(
        props["node_name"],
        api.probe(props["target"], props[NODE_INPUT]),
        timeout_s=props["timeout_s"],
        interval_s=props["interval_s"],
        in_a_row=props["in_a_row"],
    )
    return [{"at_s": o.at_s, "healthy": o.healthy, "detail": o.detail} for o in seen[-5:]]


def _passed(props: Mapping[str, Any], seen: list[dict[str, Any]], drained: str) -> dict:
    return dict(props) | {
        "passed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checks": seen,
        "drained": drained,
    }


class HealthGateProvider(dynamic.ResourceProvider):
    """The gate's create, update and delete; stateless, so it pickles by reference."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        seen = _gate(props)
        return dynamic.CreateResult(f"gate-{props['node_name']}", _passed(props, seen, ""))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        keys = ("cloud", "node_name", NODE_INPUT, "target", "timeout_s", "drain_s")
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        return dynamic.DiffResult(changes=bool(changed), replaces=[], stables=["node_name"])

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        if olds.get(NODE_INPUT) == news[NODE_INPUT]:
            return dynamic.UpdateResult(dict(olds) | dict(news))
        seen = _gate(news)
        api = clouds.get(olds["cloud"]).node_api(olds["target"], os.environ)
        drained = api.stop(olds[NODE_INPUT], olds["drain_s"] + STOP_MARGIN_S)
        return dynamic.UpdateResult(_passed(news, seen, drained))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Drain the node before Pulumi deletes it (scale-in, destroy). Best effort: a
        destroy must not fail because a node could not be asked to stop."""
        try:
            api = clouds.get(props["cloud"]).node_api(props["target"], os.environ)
            api.stop(props[NODE_INPUT], props["drain_s"] + STOP_MARGIN_S)
        except Exception:
            pass


class HealthGate(dynamic.Resource, module="pyscale", name="HealthGate"):
    """One node's gate. `target` is what the cloud's API needs to find the node behind the
    load balancer (DigitalOcean: the load balancer's id; OVHcloud: the project, region and
    the node's pool members)."""

    passed_at: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        cloud: str,
        node_name: str,
        node_id: pulumi.Input[str],
        target: pulumi.Input[Mapping[str, Any]],
        rollout: RolloutPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "cloud": cloud,
            "node_name": node_name,
            NODE_INPUT: node_id,
            "target": target,
            "timeout_s": rollout.health_timeout_s,
            "interval_s": rollout.poll_interval_s,
            "in_a_row": rollout.healthy_in_a_row,
            "drain_s": rollout.drain_s,
            "passed_at": None,
            "checks": None,
            "drained": None,
        }
        super().__init__(HealthGateProvider(), name, props, opts)


def batch_dependencies(gates: list[HealthGate], index: int, batch_size: int) -> list[HealthGate]:
    """What node `index` (0-based) waits for: every gate of the batch before its own."""
    batch = index // batch_size
    return gates[(batch - 1) * batch_size : batch * batch_size] if batch else []
