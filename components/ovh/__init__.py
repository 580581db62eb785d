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

import pulumi

from components import webstack
from components.ovh.cache import Cache
from components.ovh.database import Database
from components.ovh.loadbalancer import LoadBalancer
from components.ovh.network import Network
from components.ovh.nodes import Nodes
from components.webstack import WebStackArgs

__all__ = ["WebStack", "WebStackArgs"]


class WebStack(webstack.WebStack):
    """Network, database, cache, nodes and (with more than one node) a load balancer.

    `args.alert_slack_url` is taken and unused: OVHcloud has no alerting resource for it.
    """

    def __init__(
        self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ovh", name, args, opts)
        settings, plan = args.settings, args.plan
        child = pulumi.ResourceOptions(parent=self)
        network = Network(f"{name}-net", settings, opts=child)
        database = Database(f"{name}-db", settings, plan, network, opts=child)
        cache = Cache(f"{name}-cache", settings, network, opts=child)
        user_data = webstack.node_user_data(
            settings, plan, database.primary_uri, database.read_uris, cache.uri
        )
        nodes = Nodes(f"{name}-node", settings, plan, network, user_data, opts=child)
        if plan.load_balancer.enabled:
            balancer = LoadBalancer(
                f"{name}-lb", settings, plan, network, nodes.private_addresses, opts=child
            )
            public_ip = balancer.ip
        else:
            # Single node: Nginx faces the internet on the node's own address.
            public_ip = nodes.public_ips.apply(lambda ips: ips[0])
        self.publish(
            url=webstack.public_url(settings, public_ip),
            entry_ip=public_ip,
            node_ips=nodes.public_ips,
            primary_uri=database.primary_uri,
            read_uris=database.read_uris,
            cache_uri=cache.uri,
        )
