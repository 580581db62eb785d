"""`pyscale:digitalocean:WebStack`: the whole DigitalOcean topology as one component.

Built only from the Settings and the CapacityPlan, in dependency order: network and tags,
PostgreSQL and Valkey (their URIs go into the user-data), the nodes, the load balancer, the
firewall that admits the load balancer, monitoring, and last the Project that lists them.
Every resource is a direct child of the WebStack and named after it.
"""

from __future__ import annotations

import pulumi

from components import webstack
from components.digitalocean import cache, database, loadbalancer, monitoring, network, nodes
from components.webstack import WebStackArgs


class WebStack(webstack.WebStack):
    """Nodes behind a load balancer, managed PostgreSQL with replicas and a pool, Valkey."""

    def __init__(
        self, name: str, args: WebStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("digitalocean", name, args, opts)
        settings, plan = args.settings, args.plan
        net = network.create(name, settings, self)
        db = database.create(name, settings, plan, net, self)
        valkey = cache.create(name, settings, net, self)
        node_user_data = webstack.node_user_data(
            settings, plan, db.primary_url, db.read_urls, valkey.url
        )
        fleet = nodes.create(name, settings, plan, net, node_user_data, self)
        lb = loadbalancer.create(name, settings, plan, net, self)
        nodes.create_firewall(name, settings, net, lb.id if lb else None, self)

        # Single node: the node itself is what the domain's A record points at.
        entry_ip = lb.ip if lb else fleet.droplets[0].ipv4_address
        url = webstack.public_url(settings, entry_ip)
        monitoring.create(name, settings, plan, net, url, args.alert_slack_url, self)

        urns = [d.droplet_urn for d in fleet.droplets]
        urns += [lb.load_balancer_urn] if lb else []
        urns += [db.cluster.cluster_urn, valkey.cluster.cluster_urn]
        network.create_project(name, settings, urns, self)

        self.publish(
            url=url,
            entry_ip=entry_ip,
            node_ips=fleet.ips,
            primary_uri=db.primary_url,
            read_uris=db.read_urls,
            cache_uri=valkey.url,
        )
