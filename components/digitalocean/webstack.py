"""`pyscale:digitalocean:WebStack`: the whole DigitalOcean topology as one component.

Built only from the Settings and the CapacityPlan, one part per concern, in dependency
order: network (VPC and tags), database and cache (their URIs go into the user-data), the
load balancer (with more than one node), the nodes with the firewall that admits the load
balancer, the provider's monitoring, the monitoring node (monitoring.node), and last the
Project that lists the billable resources. The Project
stays the WebStack's own child: it groups the whole stack, not one part.

Every resource keeps the name it had when it was a direct child of the WebStack, and an
alias to that URN (moved.py), so that existing stacks are moved, not replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_digitalocean as do

from components import webstack
from components.digitalocean.cache import Cache, CacheArgs
from components.digitalocean.cluster import Cluster, ClusterArgs
from components.digitalocean.database import Database, DatabaseArgs
from components.digitalocean.loadbalancer import LoadBalancer, LoadBalancerArgs
from components.digitalocean.monitor import Monitor, MonitorArgs, metrics_login, store_targets
from components.digitalocean.monitoring import Monitoring, MonitoringArgs
from components.digitalocean.network import Network, NetworkArgs
from components.digitalocean.nodes import Nodes, NodesArgs
from components.webstack import WebStackArgs
from pyscale.clouds.digitalocean import discovery
from pyscale.settings import Settings

# DigitalOcean's project environments (API: Development, Staging or Production).
PROJECT_ENVIRONMENTS = {"dev": "Development", "staging": "Staging", "prod": "Production"}
PROJECT_PURPOSE = "Web Application"


@pulumi.type_token("pyscale:digitalocean:WebStack")
class WebStack(webstack.WebStack):
    """Nodes behind a load balancer, managed PostgreSQL with replicas and a pool, Valkey."""

    def __init__(
        self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args, opts)
        settings = args.settings
        network = Network(
            f"{name}-net", NetworkArgs(settings), opts=pulumi.ResourceOptions(parent=self)
        )
        if settings.on_kubernetes:
            self._kubernetes(name, args, network)
        else:
            self._vms(name, args, network)

    def _vms(self, name: str, args: WebStackArgs, network: Network) -> None:
        """Droplets booted from the rendered user-data, behind the load balancer."""
        settings, plan = args.settings, args.plan
        part = pulumi.ResourceOptions(parent=self)
        database = Database(f"{name}-db", DatabaseArgs(settings, plan, network), opts=part)
        cache = Cache(f"{name}-cache", CacheArgs(settings, network), opts=part)
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
            f"{name}-node",
            NodesArgs(
                settings,
                plan,
                network,
                user_data,
                load_balancer_id=balancer.load_balancer_id if balancer else None,
            ),
            opts=part,
        )
        # Single node: the node itself is what the domain's A record points at.
        entry_ip = balancer.ip if balancer else nodes.public_ips.apply(lambda ips: ips[0])
        url = webstack.public_url(settings, entry_ip)
        self._monitoring(
            name, args, network, url, balancer.load_balancer_id if balancer else None,
            (database, cache),
        )  # fmt: skip
        monitor = None
        if settings.monitoring.node:
            monitor = self._monitor(name, args, network, (database, cache), url)
        billable = [*nodes.droplet_urns]
        billable += [monitor.droplet_urn] if monitor else []
        billable += [balancer.load_balancer_urn] if balancer else []
        billable += [database.cluster_urn, cache.cluster_urn]
        self._project(name, settings, billable)

        self.publish(
            url=url,
            entry_ip=entry_ip,
            node_ips=nodes.public_ips,
            primary_uri=database.primary_uri,
            read_uris=database.read_uris,
            cache_uri=cache.uri,
            monitoring_url=webstack.grafana_url(monitor.public_ip) if monitor else None,
        )

    def _kubernetes(self, name: str, args: WebStackArgs, network: Network) -> None:
        """DOKS in the VPC, the data stores trusting the cluster, the app's workloads behind
        the gateway, whose Service gets a DigitalOcean load balancer sized by the plan."""
        settings, plan = args.settings, args.plan
        part = pulumi.ResourceOptions(parent=self)
        cluster = Cluster(f"{name}-k8s", ClusterArgs(settings, plan, network), opts=part)
        trusted = cluster.cluster_id
        database = Database(
            f"{name}-db", DatabaseArgs(settings, plan, network, cluster_id=trusted), opts=part
        )
        cache = Cache(f"{name}-cache", CacheArgs(settings, network, cluster_id=trusted), opts=part)
        workloads = self.workloads(name, args, cluster.kubeconfig, (database, cache))
        url = webstack.public_url(settings, workloads.address)
        # The load balancer is the cloud controller's, not the stack's: its alerts are not set.
        self._monitoring(name, args, network, url, None, (database, cache))
        self._project(
            name, settings, [cluster.cluster_urn, database.cluster_urn, cache.cluster_urn]
        )
        self.publish_cluster(url, workloads, (database, cache))

    def _monitoring(
        self,
        name: str,
        args: WebStackArgs,
        network: Network,
        url: pulumi.Output[str],
        load_balancer_id: pulumi.Output[str] | None,
        stores: tuple[Database, Cache],
    ) -> None:
        """DigitalOcean's own alerts on the web tag's droplets, the stores and the URL."""
        database, cache = stores
        Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                args.settings,
                args.plan,
                network,
                url,
                args.alert_slack_url,
                load_balancer_id=load_balancer_id,
                database_ids=(database.cluster_id, cache.cluster_id),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _monitor(
        self,
        name: str,
        args: WebStackArgs,
        network: Network,
        stores: tuple[Database, Cache],
        url: pulumi.Output[str],
    ) -> Monitor:
        """The monitoring node, reading the droplets with the stack's read-only token (a
        placeholder in a preview without it: __main__ refuses an update without it) and the
        clusters' metrics with the account's metrics login; it probes the stack's `url`."""
        database, cache = stores
        login = metrics_login()
        targets = [
            store_targets("postgresql", database.metrics_endpoints, login),
            store_targets("valkey", cache.metrics_endpoints, login),
        ]
        token = args.monitoring_token or discovery.PLACEHOLDER["token"]
        user_data = webstack.monitor_user_data(
            args,
            pulumi.Output.secret(pulumi.Output.from_input(token).apply(lambda t: {"token": t})),
            targets,
            cas=[database.ca, cache.ca],
            url=url,
        )
        return Monitor(
            f"{name}-monitor",
            MonitorArgs(args.settings, network, user_data),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _project(
        self, name: str, settings: Settings, resource_urns: Sequence[pulumi.Input[str]]
    ) -> None:
        """Group the droplets, load balancer and database clusters in the control panel and
        under one set of team permissions; otherwise they land in the default project."""
        do.Project(
            f"{name}-project",
            name=name,
            description=f"pyscale {settings.stack} ({settings.target_concurrency:,} concurrent)",
            environment=PROJECT_ENVIRONMENTS[settings.environment],
            purpose=PROJECT_PURPOSE,
            resources=list(resource_urns),
            opts=pulumi.ResourceOptions(parent=self),
        )
