"""`pyscale:ovh:Cluster`: OVHcloud Managed Kubernetes (MKS) on the stack's private network,
with one node pool sized by the plan (or, with autoscale, scaled by the cluster autoscaler
between the plan's bounds: OVHcloud's way for a fleet to scale itself), for platform:
kubernetes.

The nodes take their addresses in the stack's subnet and route out through its gateway, so
PostgreSQL and Valkey, which admit that subnet only, admit the cluster's nodes and nothing
else (no VM nodes share the subnet on this platform).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_ovh as ovh

from components.ovh.network import Network, gateway_ip
from pyscale.capacity import CapacityPlan
from pyscale.settings import Settings


@dataclass(frozen=True)
class ClusterArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network


def pool_size(plan: CapacityPlan) -> dict[str, Any]:
    """The node pool's size: fixed at the plan's count (the pods' autoscaler works inside
    it), or with autoscale the cluster autoscaler's bounds, starting at the minimum, removing
    a node unneeded for the pool's cooldown whose pods' requests are under the plan's share
    of it (as on DigitalOcean: components/digitalocean/cluster.py); an unready node is left
    to OVHcloud's default (20 minutes) before it goes."""
    if plan.autoscale is None:
        nodes = plan.nodes
        return {"desired_nodes": nodes, "min_nodes": nodes, "max_nodes": nodes, "autoscale": False}
    bounds = plan.autoscale
    return {
        "desired_nodes": bounds.min_nodes,
        "min_nodes": bounds.min_nodes,
        "max_nodes": bounds.max_nodes,
        "autoscale": True,
        "autoscaling_scale_down_unneeded_time_seconds": bounds.cooldown_minutes * 60,
        "autoscaling_scale_down_utilization_threshold": bounds.scale_down_utilization,
    }


@pulumi.type_token("pyscale:ovh:Cluster")
class Cluster(pulumi.ComponentResource):
    """The cluster and its node pool."""

    cluster_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]  # secret

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        prefix = settings.resource_prefix
        kube = ovh.cloudproject.Kube(
            f"{prefix}-k8s",
            service_name=settings.ovh_service_name,
            name=prefix,
            region=settings.region,
            version=settings.kubernetes.version,
            private_network_id=network.network_id,
            nodes_subnet_id=network.subnet_id,
            # Out through the stack's gateway, as the VM nodes do.
            private_network_configuration=ovh.cloudproject.KubePrivateNetworkConfigurationArgs(
                default_vrack_gateway=gateway_ip(settings.vpc_cidr),
                private_network_routing_as_default=True,
            ),
            # Patch upgrades replace nodes one by one (the PodDisruptionBudget holds the rest).
            update_policy="MINIMAL_DOWNTIME",
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protect, depends_on=[network.gateway]
            ),
        )
        ovh.cloudproject.KubeNodePool(
            f"{prefix}-pool",
            service_name=settings.ovh_service_name,
            kube_id=kube.id,
            name="app",
            flavor_name=settings.node_size.name,
            **pool_size(plan),
            monthly_billed=False,
            template=ovh.cloudproject.KubeNodePoolTemplateArgs(
                metadata=ovh.cloudproject.KubeNodePoolTemplateMetadataArgs(
                    labels={"pyscale.dev/role": "app"}, annotations={}, finalizers=[]
                ),
                spec=ovh.cloudproject.KubeNodePoolTemplateSpecArgs(taints=[], unschedulable=False),
            ),
            # An autoscaling pool's desired count is the cluster autoscaler's to move.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["desiredNodes"] if plan.autoscale else None
            ),
        )
        self.cluster_id = kube.id
        self.kubeconfig = pulumi.Output.secret(kube.kubeconfig)
        self.register_outputs({"cluster_id": kube.id})
