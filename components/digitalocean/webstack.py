"""`pyscale:digitalocean:WebStack`: the whole DigitalOcean topology as one component.

Built only from the Settings and the CapacityPlan, in dependency order: network and tags,
PostgreSQL and Valkey (their URIs go into the user-data), the nodes, the load balancer, the
firewall that admits the load balancer, monitoring, and last the Project that lists them.
Every resource is a direct child of the WebStack and named after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.capacity import CapacityPlan
from components.digitalocean import cache, database, loadbalancer, monitoring, network, nodes
from components.settings import Settings

TYPE = "pyscale:digitalocean:WebStack"


@dataclass(frozen=True)
class WebStackArgs:
    settings: Settings
    plan: CapacityPlan
    # Secret Slack webhook for alerts (pyscale:alertSlackUrl); alerts.slackChannel names it.
    alert_slack_url: pulumi.Input[str] | None = None


def public_url(settings: Settings, address: pulumi.Input[str]) -> pulumi.Output[str]:
    """The domain when there is one, else the public address; https unless tls is off."""
    scheme = "http" if settings.tls == "off" else "https"
    host = settings.domain or address
    return pulumi.Output.concat(scheme, "://", host)


class WebStack(pulumi.ComponentResource):
    """Nodes behind a load balancer, managed PostgreSQL with replicas and a pool, Valkey."""

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
        if settings.cloud != "digitalocean":
            raise ValueError(f"pyscale:cloud = {settings.cloud!r}: this WebStack is DigitalOcean's")
        props = {
            "cloud": settings.cloud,
            "environment": settings.environment,
            "nodeCount": plan.nodes,
            "nodeSize": settings.node_size.name,
        }
        super().__init__(TYPE, name, props, opts)

        net = network.create(name, settings, self)
        db = database.create(name, settings, plan, net, self)
        valkey = cache.create(name, settings, net, self)
        node_user_data = nodes.user_data(settings, plan, db.primary_url, db.read_urls, valkey.url)
        fleet = nodes.create(name, settings, plan, net, node_user_data, self)
        lb = loadbalancer.create(name, settings, plan, net, self)
        nodes.create_firewall(name, settings, net, lb.balancer.id if lb else None, self)

        # Single node: the node itself is what the domain's A record points at.
        entry_ip = lb.balancer.ip if lb else fleet.droplets[0].ipv4_address
        self.url = public_url(settings, entry_ip)
        monitoring.create(name, settings, plan, net, self.url, args.alert_slack_url, self)

        urns = [d.droplet_urn for d in fleet.droplets]
        urns += [lb.balancer.load_balancer_urn] if lb else []
        urns += [db.cluster.cluster_urn, valkey.cluster.cluster_urn]
        network.create_project(name, settings, urns, self)

        self.load_balancer_ip = pulumi.Output.from_input(entry_ip)
        self.node_ips = fleet.ips
        self.database_primary_uri = db.primary_url
        # Where reads go: the replicas, else the primary, as the app does when the node's
        # DATABASE_READ_URLS is empty (app/pyscale_demo/wsgi.py).
        self.database_read_uris = (
            db.read_urls if db.replicas else pulumi.Output.secret([db.primary_url])
        )
        self.cache_uri = valkey.url
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
