"""`pyscale:ovh:Cluster`: OVHcloud Managed Kubernetes (MKS) on the stack's private network,
with one node pool sized by the plan, for platform: kubernetes.

The nodes take their addresses in the stack's subnet and route out through its gateway, so
PostgreSQL and Valkey, which admit that subnet only, admit the cluster's nodes and nothing
else (no VM nodes share the subnet on this platform).
"""

from __future__ import annotations

from dataclasses import dataclass

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
            # Fixed at the plan's count: the pods' autoscaler works inside it.
            desired_nodes=plan.nodes,
            min_nodes=plan.nodes,
            max_nodes=plan.nodes,
            autoscale=False,
            monthly_billed=False,
            template=ovh.cloudproject.KubeNodePoolTemplateArgs(
                metadata=ovh.cloudproject.KubeNodePoolTemplateMetadataArgs(
                    labels={"pyscale.dev/role": "app"}, annotations={}, finalizers=[]
                ),
                spec=ovh.cloudproject.KubeNodePoolTemplateSpecArgs(taints=[], unschedulable=False),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster_id = kube.id
        self.kubeconfig = pulumi.Output.secret(kube.kubeconfig)
        self.register_outputs({"cluster_id": kube.id})
