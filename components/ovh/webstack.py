"""`pyscale:ovh:WebStack`: the service on OVHcloud Public Cloud, same outputs as DigitalOcean.

Built only from the Settings and the CapacityPlan, one part per concern, in dependency
order: network (vRack, subnet, gateway), database and cache (their URIs go into the
user-data), the load balancer (with more than one node), and the nodes with their security
group, each joining the load balancer's pools and gated on them (components/gate.py), and
the monitoring node (monitoring.node).

The OVHcloud provider has no metric alerting for instances or databases (its only alert,
`cloudproject.Alerting`, watches the project's spending), so there is no part for the
provider's alerts as on DigitalOcean: every alert comes from the monitoring node.
"""

from __future__ import annotations

import pulumi

from components import webstack
from components.ovh.cache import Cache, CacheArgs
from components.ovh.cluster import Cluster, ClusterArgs
from components.ovh.database import Database, DatabaseArgs
from components.ovh.loadbalancer import LoadBalancer, LoadBalancerArgs
from components.ovh.monitor import Monitor, MonitorArgs, discovery_user, store_targets
from components.ovh.network import Network, NetworkArgs
from components.ovh.nodes import Nodes, NodesArgs
from components.webstack import WebStackArgs


@pulumi.type_token("pyscale:ovh:WebStack")
class WebStack(webstack.WebStack):
    """Network, database, cache, nodes and (with more than one node) a load balancer.

    OVHcloud's provider alerts only on spending: the monitoring node's Alertmanager is where
    `args.alert_slack_url` goes.
    """

    def __init__(
        self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        settings, plan = args.settings, args.plan
        part = pulumi.ResourceOptions(parent=self)
        network = Network(f"{name}-net", NetworkArgs(settings), opts=part)
        database = Database(f"{name}-db", DatabaseArgs(settings, plan, network), opts=part)
        cache = Cache(f"{name}-cache", CacheArgs(settings, network), opts=part)
        if settings.on_kubernetes:
            self._kubernetes(name, args, network, (database, cache))
            return
        user_data = webstack.node_user_data(
            settings, plan, database.primary_uri, database.read_uris, cache.uri,
            cas=[database.ca, cache.ca],
        )  # fmt: skip
        balancer = (
            LoadBalancer(f"{name}-lb", LoadBalancerArgs(settings, plan, network), opts=part)
            if plan.load_balancer.enabled
            else None
        )
        nodes = Nodes(
            f"{name}-node", NodesArgs(settings, plan, network, user_data, balancer), opts=part
        )
        # Single node: Nginx faces the internet on the node's own address.
        public_ip = balancer.ip if balancer else nodes.public_ips.apply(lambda ips: ips[0])
        url = webstack.public_url(settings, public_ip)
        monitor = None
        if settings.monitoring.node:
            monitor = self._monitor(name, args, network, (database, cache), url)
        self.publish(
            url=url,
            entry_ip=public_ip,
            node_ips=nodes.public_ips,
            primary_uri=database.primary_uri,
            read_uris=database.read_uris,
            cache_uri=cache.uri,
            monitoring_url=webstack.grafana_url(monitor.public_ip) if monitor else None,
        )

    def _kubernetes(
        self, name: str, args: WebStackArgs, network: Network, stores: tuple[Database, Cache]
    ) -> None:
        """MKS on the private subnet (the data stores admit that subnet only, which on this
        platform holds the cluster's nodes alone), the app's workloads behind the gateway,
        whose Service gets an OVHcloud load balancer of the plan's flavor."""
        settings, plan = args.settings, args.plan
        part = pulumi.ResourceOptions(parent=self)
        cluster = Cluster(f"{name}-k8s", ClusterArgs(settings, plan, network), opts=part)
        workloads = self.workloads(name, args, cluster.kubeconfig, stores)
        self.publish_cluster(webstack.public_url(settings, workloads.address), workloads, stores)

    def _monitor(
        self,
        name: str,
        args: WebStackArgs,
        network: Network,
        stores: tuple[Database, Cache],
        url: pulumi.Output[str],
    ) -> Monitor:
        """The monitoring node, reading the instances as a read-only user of its own and
        each service's metrics through OVHcloud's Prometheus integration; it probes the
        stack's `url`."""
        settings, (database, cache) = args.settings, stores
        targets = [
            store_targets(
                f"{name}-monitor-{job}", job, settings, part.service_id, part.engine, self
            )
            for job, part in (("postgresql", database), ("valkey", cache))
        ]
        user_data = webstack.monitor_user_data(
            args,
            discovery_user(f"{name}-monitor-user", settings, self),
            targets,
            cas=[database.ca, cache.ca],
            url=url,
        )
        return Monitor(
            f"{name}-monitor",
            MonitorArgs(settings, network, user_data),
            opts=pulumi.ResourceOptions(parent=self),
        )
