"""`pyscale:digitalocean:Cluster`: DigitalOcean Kubernetes (DOKS) in the stack's VPC, its one
node pool sized by the plan (or, with autoscale, scaled by the cluster autoscaler between the
plan's bounds), for platform: kubernetes.

The pool's droplets carry the web tag, so DigitalOcean's droplet alerts (monitoring.py)
watch them as they watch VM nodes; the databases admit the cluster itself (trusted source
type `k8s`), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean.network import Network
from pyscale.capacity import CapacityPlan
from pyscale.settings import Settings


@dataclass(frozen=True)
class ClusterArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network


def node_pool(
    settings: Settings, plan: CapacityPlan, network: Network
) -> do.KubernetesClusterNodePoolArgs:
    """The plan's nodes, or with autoscale the pool's bounds: the cluster autoscaler adds a
    node when the pods' autoscaler has pods no node can take, up to the maximum the budgets
    were checked at, and the pool starts at its minimum (no node_count: DOKS would reset the
    pool to it on every update)."""
    fixed = {"node_count": plan.nodes}
    if plan.autoscale is not None:
        bounds = plan.autoscale
        fixed = {"auto_scale": True, "min_nodes": bounds.min_nodes, "max_nodes": bounds.max_nodes}
    return do.KubernetesClusterNodePoolArgs(
        name=f"{settings.resource_prefix}-pool",
        size=settings.node_size.name,
        tags=[network.tags.stack, network.tags.web],
        labels={"pyscale.dev/role": "app"},
        **fixed,
    )


def autoscaler(
    plan: CapacityPlan,
) -> list[do.KubernetesClusterClusterAutoscalerConfigurationArgs] | None:
    """When the cluster autoscaler removes a node: unneeded for the pool's cooldown, its
    pods' requests under the plan's share of it (as on OVHcloud: components/ovh/cluster.py)."""
    if plan.autoscale is None:
        return None
    return [
        do.KubernetesClusterClusterAutoscalerConfigurationArgs(
            scale_down_unneeded_time=f"{plan.autoscale.cooldown_minutes}m",
            scale_down_utilization_threshold=plan.autoscale.scale_down_utilization,
        )
    ]


@pulumi.type_token("pyscale:digitalocean:Cluster")
class Cluster(pulumi.ComponentResource):
    """The cluster and its node pool (the cluster's default pool)."""

    cluster_id: pulumi.Output[str]
    cluster_urn: pulumi.Output[str]  # DigitalOcean's own URN, for the Project
    kubeconfig: pulumi.Output[str]  # secret

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        prefix = settings.resource_prefix
        # The newest patch of the chosen minor; later patches come from auto_upgrade in the
        # maintenance window, not from a diff here.
        versions = do.get_kubernetes_versions_output(
            version_prefix=f"{settings.kubernetes.version}.",
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        cluster = do.KubernetesCluster(
            f"{prefix}-k8s",
            name=prefix,
            region=settings.region,
            version=versions.latest_version,
            vpc_uuid=network.vpc_id,
            # A replicated control plane in prod: its API answers through an upgrade.
            ha=settings.environment == "prod",
            auto_upgrade=True,
            # New nodes join before old ones drain (the PodDisruptionBudget holds the rest).
            surge_upgrade=True,
            maintenance_policy=do.KubernetesClusterMaintenancePolicyArgs(
                day=settings.database.maintenance_day,
                start_time=settings.database.maintenance_hour,
            ),
            node_pool=node_pool(settings, plan, network),
            cluster_autoscaler_configurations=autoscaler(plan),
            tags=[network.tags.stack],
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protect, ignore_changes=["version"]
            ),
        )
        self.cluster_id = cluster.id
        self.cluster_urn = cluster.cluster_urn
        self.kubeconfig = pulumi.Output.secret(cluster.kube_configs[0].raw_config)
        self.register_outputs({"cluster_id": cluster.id})
