"""The monitoring node: one droplet in the VPC running Prometheus, Alertmanager and Grafana
(pyscale/monitoring/node.py renders its user-data), and the cloud firewall on it.

Prometheus lists the web nodes through DigitalOcean's API with the read-only token
`pyscale:monitoringToken` (droplet discovery, pyscale/clouds/digitalocean/discovery.py), so a
replaced node is scraped without touching this droplet, and scrapes them on the VPC. It
scrapes each database cluster's metrics endpoints with the account's metrics login
(getDatabaseMetricsCredentials); the clusters' trusted sources admit this droplet's tag
(database.py).

Only the admin networks (`monitoring.adminCidrs`) reach Grafana and Prometheus, SSH only
`sshAllowCidrs`; nothing else comes in. Its user-data changes with the plan's thresholds, so
a changed plan replaces it and its samples start again: `monitoring.retentionDays` of
history lives on a disposable node, not in the state of record.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean.network import Network
from components.digitalocean.nodes import outbound_rules, ssh_rules
from components.webstack import secret_login
from pyscale import clouds, monitoring
from pyscale.settings import Settings


@dataclass(frozen=True)
class MonitorArgs:
    settings: Settings
    network: Network
    user_data: pulumi.Input[str]  # secret: holds every credential the node reads with


def inbound_rules(settings: Settings) -> list[do.FirewallInboundRuleArgs]:
    """Grafana and Prometheus from the admin networks, SSH from the SSH networks."""
    admin = list(settings.monitoring.admin_cidrs)
    rules = [
        do.FirewallInboundRuleArgs(protocol="tcp", port_range=str(port), source_addresses=admin)
        for port in monitoring.ADMIN_PORTS
        if admin
    ]
    return rules + ssh_rules(settings)


def metrics_login() -> pulumi.Output[dict[str, str]]:
    """The account's login to every cluster's metrics endpoints, as a secret."""
    found = do.get_database_metrics_credentials_output()
    return secret_login(found.username, found.password)


def store_targets(
    job: str, endpoints: pulumi.Input[list[str]], login: pulumi.Output[dict[str, str]]
) -> pulumi.Output[monitoring.StoreTargets]:
    """One cluster's metrics endpoints with the login, for the node's prometheus.yml."""
    return pulumi.Output.all(endpoints, login).apply(
        lambda a: monitoring.StoreTargets(job, tuple(a[0] or ()), **a[1])
    )


@pulumi.type_token("pyscale:digitalocean:Monitor")
class Monitor(pulumi.ComponentResource):
    """The monitoring droplet, tagged for the databases' trusted sources, and its firewall."""

    private_ip: pulumi.Output[str]
    public_ip: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, network = args.settings, args.network
        prefix = settings.resource_prefix
        child = pulumi.ResourceOptions(parent=self)
        if network.tags.monitor is None:
            raise ValueError("the network has no monitor tag: build it with the settings")
        droplet = do.Droplet(
            f"{name}-droplet",
            name=f"{prefix}-monitor",
            image=clouds.get(settings.cloud).catalog.images[settings.node_image],
            size=settings.monitoring.size.name,
            region=settings.region,
            vpc_uuid=network.vpc_id,
            ssh_keys=list(settings.ssh_keys),
            monitoring=True,
            tags=[network.tags.stack, network.tags.monitor],
            user_data=args.user_data,
            opts=child,
        )
        do.Firewall(
            f"{name}-firewall",
            name=f"{prefix}-monitor",
            tags=[network.tags.monitor],
            inbound_rules=inbound_rules(settings),
            outbound_rules=outbound_rules(),
            opts=child,
        )
        self.private_ip = droplet.ipv4_address_private
        self.public_ip = droplet.ipv4_address
        self.droplet_urn = droplet.droplet_urn
        self.register_outputs({"private_ip": self.private_ip, "public_ip": self.public_ip})
