"""The monitoring node: one instance on the vRack running Prometheus, Alertmanager and
Grafana (pyscale/monitoring/node.py renders its user-data), behind a security group of its
own.

Prometheus lists the web nodes through OpenStack as a user the stack creates for it, with
the read-only role `infrastructure_supervisor` (pyscale/clouds/ovh/discovery.py), so a
replaced node is scraped without touching this instance, and scrapes them on the subnet.
Each managed service gets OVHcloud's Prometheus integration (CloudProjectDatabase
Prometheus: its own login and targets); the services admit the subnet, this node included.

Like the web nodes it has a private interface on the subnet and a public one, which the
security group keeps closed but to the admin networks (`monitoring.adminCidrs`: Grafana and
Prometheus) and `sshAllowCidrs` (SSH).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_ovh as ovh

from components.ovh.network import Network
from components.ovh.nodes import (
    Machine,
    Rule,
    flavor_and_image,
    instance_addresses,
    machine_instance,
    security_group,
    ssh_rules,
)
from components.webstack import secret_login
from pyscale import monitoring
from pyscale.settings import Settings

# OVHcloud's read-only Public Cloud role (cloudproject.User role_names).
READ_ONLY_ROLE = "infrastructure_supervisor"


@dataclass(frozen=True)
class MonitorArgs:
    settings: Settings
    network: Network
    user_data: pulumi.Input[str]  # secret: holds every credential the node reads with


def ingress_rules(settings: Settings) -> list[Rule]:
    """Grafana and Prometheus from the admin networks, SSH from the SSH networks."""
    rules = [
        Rule(port, cidr, "monitoring UI from an admin network")
        for port in monitoring.ADMIN_PORTS
        for cidr in settings.monitoring.admin_cidrs
    ]
    return rules + ssh_rules(settings)


def discovery_user(
    name: str, settings: Settings, parent: pulumi.Resource
) -> pulumi.Output[dict[str, str]]:
    """The read-only OpenStack user Prometheus lists the instances as, as a secret."""
    user = ovh.cloudproject.User(
        name,
        service_name=settings.ovh_service_name,
        description=f"pyscale {settings.stack}: Prometheus instance discovery (read-only)",
        role_names=[READ_ONLY_ROLE],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return secret_login(user.username, user.password)


def store_targets(
    name: str, job: str, settings: Settings, service_id: pulumi.Input[str], engine: str,
    parent: pulumi.Resource,
) -> pulumi.Output[monitoring.StoreTargets]:  # fmt: skip
    """OVHcloud's Prometheus integration on one service: its targets and login."""
    integration = ovh.cloudprojectdatabase.Prometheus(
        name,
        service_name=settings.ovh_service_name,
        cluster_id=service_id,
        engine=engine,
        opts=pulumi.ResourceOptions(parent=parent),
    )

    def targets(values: list) -> monitoring.StoreTargets:
        found, username, password = values
        endpoints = tuple(f"https://{t['host']}:{t['port']}/metrics" for t in found or ())
        return monitoring.StoreTargets(job, endpoints, username, password)

    return pulumi.Output.all(integration.targets, integration.username, integration.password).apply(
        targets
    )


@pulumi.type_token("pyscale:ovh:Monitor")
class Monitor(pulumi.ComponentResource):
    """The monitoring instance and its security group."""

    private_ip: pulumi.Output[str]
    public_ip: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, network = args.settings, args.network
        size = settings.monitoring.size.name
        flavor_id, image_id = flavor_and_image(settings, size, "pyscale:monitoring.size", self)
        name_on_cloud = f"{settings.resource_prefix}-monitor"  # the instance and its group
        group = security_group(
            f"{name}-sg",
            settings,
            name_on_cloud,
            "pyscale monitoring: Grafana and Prometheus from admin networks, SSH from allowed",
            ingress_rules(settings),
            parent=self,
        )
        instance = machine_instance(
            f"{name}-instance",
            Machine(settings, network, name_on_cloud, flavor_id, image_id, group.id),
            args.user_data,
            pulumi.ResourceOptions(parent=self),
        )
        self.private_ip, self.public_ip = instance_addresses(instance, network)
        self.register_outputs({"private_ip": self.private_ip, "public_ip": self.public_ip})
