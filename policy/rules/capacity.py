"""Capacity: the nodes created are the nodes the capacity plan sized, with N+1 in prod."""

from __future__ import annotations

from .reading import Finding, Res, at, in_monitor, webstack
from .tokens import (
    DO_DROPLET,
    DO_DROPLET_AUTOSCALE,
    DO_KUBERNETES,
    NODE_TYPES,
    OVH_KUBE_NODE_POOL,
)


def _number(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _pool_nodes(resources: list[Res]) -> tuple[int, int, list[tuple[Res, object]]]:
    """Nodes in pools: Kubernetes node pools (platform: kubernetes) and Droplet autoscale
    pools, as (their most nodes, their fewest, each pool's size where it names one). A pool
    that scales itself counts at its maximum, the count the plan checked every budget at."""
    most, fewest, sizes = 0, 0, []
    for r in resources:
        if r.type == DO_KUBERNETES:
            pool = r.get("nodePool")
            if isinstance(pool, dict):
                scales = pool.get("autoScale")
                most += _number(pool.get("maxNodes" if scales else "nodeCount"))
                fewest += _number(pool.get("minNodes" if scales else "nodeCount"))
                sizes.append((r, pool.get("size")))
        elif r.type == OVH_KUBE_NODE_POOL:
            scales = r.get("autoscale")
            most += _number(r.get("maxNodes" if scales else "desiredNodes"))
            fewest += _number(r.get("minNodes" if scales else "desiredNodes"))
        elif r.type == DO_DROPLET_AUTOSCALE:
            config, template = r.get("config"), r.get("dropletTemplate")
            if isinstance(config, dict):
                most += _number(config.get("maxInstances"))
                fewest += _number(config.get("minInstances"))
            if isinstance(template, dict):
                sizes.append((r, template.get("size")))
    return most, fewest, sizes


def check_capacity_consistent(resources: list[Res]) -> list[Finding]:
    """The web nodes created (VMs, or a Kubernetes node pool's nodes) are the nodes the
    capacity plan sized the whole chain for (the monitoring node is sized apart)."""
    nodes = [r for r in resources if r.type in NODE_TYPES and not in_monitor(r)]
    pooled, fewest, pools = _pool_nodes(resources)
    stack = webstack(resources)
    if stack is None:
        return [("nodes exist but no WebStack declares nodeCount/nodeSize", None)] if nodes else []
    count, size = stack.get("nodeCount"), stack.get("nodeSize")
    findings: list[Finding] = []
    created = len(nodes) + pooled
    if isinstance(count, int | float) and created != int(count):
        findings.append(
            at(stack, f"capacity plan says {int(count)} nodes, the stack creates {created}")
        )
    bounds = stack.get("autoscale")
    low = bounds.get("minNodes") if isinstance(bounds, dict) else None
    if isinstance(low, int | float) and fewest != int(low):
        findings.append(at(stack, f"pool minimum planned {int(low)}, the pools keep {fewest}"))
    for pool, actual in pools:
        if isinstance(actual, str) and isinstance(size, str) and actual != size:
            findings.append(at(pool, f"node pool size {actual}, the capacity plan sized {size}"))
    for node in nodes:
        # OVHcloud instances carry a flavorId (a UUID looked up from the name): only
        # DigitalOcean droplets name their size, so only they are compared.
        actual = node.get("size") if node.type == DO_DROPLET else None
        if isinstance(actual, str) and isinstance(size, str) and actual != size:
            findings.append(at(node, f"size {actual}, the capacity plan sized {size}"))
    return findings


def check_prod_node_redundancy(resources: list[Res]) -> list[Finding]:
    """One prod node means any reboot is an outage; the plan's N+1 needs two or more."""
    stack = webstack(resources)
    if stack is None or stack.get("environment") != "prod":
        return []
    bounds = stack.get("autoscale")
    # A pool that scales itself may shrink to its minimum.
    count = bounds.get("minNodes") if isinstance(bounds, dict) else stack.get("nodeCount")
    if isinstance(count, int | float) and count < 2:
        return [at(stack, f"prod runs {int(count)} node; one failure is an outage")]
    return []
