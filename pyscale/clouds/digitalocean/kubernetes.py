"""DOKS specifics pyscale's Kubernetes manifests need: what DigitalOcean's cloud controller
reads on the gateway's Service (docs.digitalocean.com/products/kubernetes/how-to/
configure-load-balancers/, annotation reference; read 2026-12-04)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyscale.capacity import CapacityPlan
    from pyscale.settings import Settings

_ANNOTATION = "service.beta.kubernetes.io/do-loadbalancer-"


def gateway_annotations(settings: Settings, plan: CapacityPlan) -> dict[str, str]:
    """The load balancer the plan sized (size units), named after the stack, keeping
    connections to the nodes open as the VM path's load balancer does."""
    return {
        f"{_ANNOTATION}name": settings.resource_prefix,
        f"{_ANNOTATION}size-unit": str(plan.load_balancer.size_unit),
        f"{_ANNOTATION}enable-backend-keepalive": "true",
    }
