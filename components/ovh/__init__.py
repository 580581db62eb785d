"""`pyscale:ovh:WebStack`: the service on OVHcloud Public Cloud, same outputs as DigitalOcean.

Parts, one file each: network (vRack, subnet, gateway), nodes (instances and their security
group), loadbalancer (Octavia), database (PostgreSQL), cache (Valkey). There is no
monitoring part: the OVHcloud provider has no metric alerting for instances or databases
(its only alert, `cloudproject.Alerting`, watches the project's spending), so nothing here
pretends to alert on CPU, memory or disk; Octavia and the databases expose metrics to scrape.

Every resource names the project by `serviceName` = settings.ovh_service_name; the
credentials (OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY)
come from the environment or the `ovh:` stack config, as the provider reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import bootstrap
from components.capacity import CapacityPlan
from components.ovh.cache import Cache
from components.ovh.database import Database
from components.ovh.loadbalancer import LoadBalancer
from components.ovh.network import Network
from components.ovh.nodes import Nodes
from components.settings import Settings

__all__ = ["WebStack", "WebStackArgs"]


@dataclass
class WebStackArgs:
    """What a WebStack is built from (docs/CONTRACT.md).

    `alert_slack_url` is part of the shared contract; OVHcloud has no alerting resource to
    hand it to, so this stack takes it and does not use it.
    """

    settings: Settings
    plan: CapacityPlan
    alert_slack_url: pulumi.Input[str] | None = None


class WebStack(pulumi.ComponentResource):
    """Network, database, cache, nodes and (with more than one node) a load balancer."""

    url: pulumi.Output[str]
    load_balancer_ip: pulumi.Output[str]
    node_ips: pulumi.Output[list[str]]
    database_primary_uri: pulumi.Output[str]
    database_read_uris: pulumi.Output[list[str]]
    cache_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings, plan = args.settings, args.plan
        super().__init__(
            "pyscale:ovh:WebStack",
            name,
            {
                "cloud": "ovh",
                "environment": settings.environment,
                "nodeCount": plan.nodes,
                "nodeSize": settings.node_size.name,
            },
            opts,
        )
        child = pulumi.ResourceOptions(parent=self)
        network = Network(f"{name}-net", settings, opts=child)
        database = Database(f"{name}-db", settings, plan, network, opts=child)
        cache = Cache(f"{name}-cache", settings, network, opts=child)
        secrets = pulumi.Output.all(database.primary_uri, database.read_uris, cache.uri).apply(
            lambda a: bootstrap.NodeSecrets(
                database_url=a[0], database_read_urls=tuple(a[1]), redis_url=a[2]
            )
        )
        nodes = Nodes(f"{name}-node", settings, plan, network, secrets, opts=child)
        if plan.load_balancer.enabled:
            balancer = LoadBalancer(
                f"{name}-lb", settings, plan, network, nodes.private_addresses, opts=child
            )
            public_ip = balancer.ip
        else:
            # Single node: Nginx faces the internet on the node's own address.
            public_ip = nodes.public_ips.apply(lambda ips: ips[0])
        scheme = "http" if settings.tls == "off" else "https"
        self.url = public_ip.apply(lambda ip: f"{scheme}://{settings.domain or ip}")
        self.load_balancer_ip = public_ip
        self.node_ips = nodes.public_ips
        self.database_primary_uri = database.primary_uri
        self.database_read_uris = database.read_uris
        self.cache_uri = cache.uri
        self.register_outputs(
            {
                "url": self.url,
                "load_balancer_ip": self.load_balancer_ip,
                "node_ips": self.node_ips,
                "database_primary_uri": self.database_primary_uri,
                "database_read_uris": self.database_read_uris,
                "cache_uri": self.cache_uri,
            }
        )
