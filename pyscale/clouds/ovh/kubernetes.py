"""MKS specifics pyscale's Kubernetes manifests need: what OVHcloud's cloud controller reads
on the gateway's Service (help.ovhcloud.com, "Expose your applications using OVHcloud Public
Cloud Load Balancer", annotations; read 2026-12-04)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings


def gateway_annotations(settings: Settings, plan: CapacityPlan) -> dict[str, str]:
    """The load-balancer flavor the plan sized (small, medium, large, xl)."""
    return {"loadbalancer.ovhcloud.com/flavor": plan.load_balancer.size}
