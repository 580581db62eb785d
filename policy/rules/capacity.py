"""Capacity: the nodes created are the nodes the capacity plan sized, with N+1 in prod."""

from __future__ import annotations

from .reading import Finding, Res, at, in_monitor, webstack
from .tokens import DO_DROPLET, DO_KUBERNETES, NODE_TYPES, OVH_KUBE_NODE_POOL


def _pool_nodes(resources: list[Res]) -> tuple[int, list[tuple[Res, object]]]:
    """Nodes in Kubernetes node pools (platform: kubernetes), and each pool's size where
    it names one (DigitalOcean's default pool)."""
    count, sizes = 0, []
    for r in resources:
        if r.type == DO_KUBERNETES:
            pool = r.get("nodePool")
            if isinstance(pool, dict):
                nodes = pool.get("nodeCount")
                count += int(nodes) if isinstance(nodes, int | float) else 0
                sizes.append((r, pool.get("size")))
        elif r.type == OVH_KUBE_NODE_POOL:
            nodes = r.get("desiredNodes")
            count += int(nodes) if isinstance(nodes, int | float) else 0
    return count, sizes


def check_capacity_consistent(resources: list[Res]) -> list[Finding]:
    """The web nodes created (VMs, or a Kubernetes node pool's nodes) are the nodes the
    capacity plan sized the whole chain for (the monitoring node is sized apart)."""
    nodes = [r for r in resources if r.type in NODE_TYPES and not in_monitor(r)]
    pooled, pools = _pool_nodes(resources)
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
    count = stack.get("nodeCount")
    if isinstance(count, int | float) and count < 2:
        return [at(stack, f"prod runs {int(count)} node; one failure is an outage")]
    return []
