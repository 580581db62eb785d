"""The nodes: `plan.nodes` instances on the vRack, behind one security group.

Each node has two interfaces: the private one on the subnet, where the load balancer, the
database and the cache reach it, and a public one for SSH from `sshAllowCidrs` and for the
single-node topology, where Nginx faces the internet. The security group (applied to every
interface) is what keeps the public side closed: web ports only from the subnet when a load
balancer is in front, SSH only from the allowed CIDRs, exporters only from the subnet.

Each instance boots the image of `pyscale:nodeImage` (the catalog's name, looked up in the
region). A changed image id, whether the stack chose another OS or OVHcloud published a new
build under the same name, replaces the instance (created before the old one goes) instead
of rebuilding it in place, which the provider would do and which wipes a serving node.

With `backups` on, each instance gets its own `cloudproject.WorkflowBackup`: OVHcloud's
scheduled instance backup, daily at 02:00 (by the workflow service's clock, whose zone
OVHcloud does not state), keeping the last 7 (BACKUP_CRON and BACKUP_ROTATION in
pyscale/clouds/ovh/pricing.py, which prices them). The workflow API has no update, so every
input forces a new workflow, and a replaced instance gets a new one with it. Deleting a
workflow leaves the backups it made in the project, billed until someone deletes them
(provider docs; OVHcloud "Backing up an instance"). Unverified: that the v1 workflow
endpoint accepts the id the v2 compute API gives a CloudInstance (neither provider's source
says whether it is the OpenStack server id the v1 API uses).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_ovh as ovh

from components.gate import HealthGate, batch_dependencies
from components.ovh.loadbalancer import LoadBalancer
from components.ovh.network import Network
from pyscale import clouds, render
from pyscale.capacity import CapacityPlan
from pyscale.clouds.ovh.pricing import BACKUP_CRON, BACKUP_ROTATION
from pyscale.settings import Settings

ANYWHERE = "0.0.0.0/0"
SSH_PORT = 22


@dataclass(frozen=True)
class Rule:
    """One ingress rule: TCP `port` from `cidr`. Egress stays OpenStack's default (all)."""

    port: int
    cidr: str
    description: str

    @property
    def ethernet_type(self) -> str:
        return "IPV4" if ipaddress.ip_network(self.cidr).version == 4 else "IPV6"


def ingress_rules(settings: Settings, plan: CapacityPlan) -> list[Rule]:
    """Who may open a connection to a node, and why."""
    # Behind the load balancer only its ports on the subnet (Octavia's amphorae sit there)
    # may reach Nginx; a single node has no load balancer and faces the internet.
    web_source = settings.vpc_cidr if plan.load_balancer.enabled else ANYWHERE
    rules = [Rule(port, web_source, "web traffic") for port in render.web_ports(settings)]
    rules += ssh_rules(settings)
    rules += [
        Rule(port, settings.vpc_cidr, "Prometheus exporter, private network only")
        for port in render.METRICS_PORTS.values()
    ]
    return rules


def ssh_rules(settings: Settings) -> list[Rule]:
    """SSH from `sshAllowCidrs` only; no rule at all without them."""
    return [Rule(SSH_PORT, cidr, "SSH from an allowed CIDR") for cidr in settings.ssh_allow_cidrs]


def _by_name(items: Sequence[Any], name: str, what: str, setting: str) -> str:
    """The id of the catalog entry called `name` (the highest id when several share it, so
    that the choice is stable)."""
    matches = sorted(i["id"] for i in items if i["name"] == name)
    if not matches:
        raise ValueError(
            f"{setting} = {name!r}: no {what} of that name in this project and region; "
            f"available: {', '.join(sorted({i['name'] for i in items}))}"
        )
    return matches[-1]


def security_group(
    name: str, settings: Settings, group_name: str, description: str, rules: list[Rule],
    parent: pulumi.Resource,
) -> ovh.CloudSecurityGroup:  # fmt: skip
    """A security group admitting `rules` (TCP), egress left to OpenStack's default (all)."""
    return ovh.CloudSecurityGroup(
        name,
        service_name=settings.ovh_service_name,
        region=settings.region,
        name=group_name,
        description=description,
        rules=[
            ovh.CloudSecurityGroupRuleArgs(
                direction="INGRESS",
                ethernet_type=rule.ethernet_type,
                protocol="TCP",
                port_range_min=rule.port,
                port_range_max=rule.port,
                remote_ip_prefix=rule.cidr,
                description=rule.description,
            )
            for rule in rules
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def flavor_and_image(
    settings: Settings, size: str, setting: str, parent: pulumi.Resource
) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The flavor id of `size` (named by `setting` in errors) and the image id of
    `pyscale:nodeImage`, looked up in the stack's project and region."""
    lookup = pulumi.InvokeOutputOptions(parent=parent)
    where = {"region": settings.region, "service_name": settings.ovh_service_name}
    flavors = ovh.get_cloud_instance_flavors_output(**where, opts=lookup)
    images = ovh.get_cloud_instance_images_output(**where, opts=lookup)
    image_name = clouds.get(settings.cloud).catalog.images[settings.node_image]
    return (
        flavors.apply(lambda r: _by_name(r.flavors, size, "flavor", setting)),
        images.apply(lambda r: _by_name(r.images, image_name, "image", "pyscale:nodeImage")),
    )


@dataclass(frozen=True)
class Machine:
    """What an instance of the stack is: its name, flavor, image and security group."""

    settings: Settings
    network: Network
    name: str
    flavor_id: pulumi.Input[str]
    image_id: pulumi.Input[str]
    group_id: pulumi.Input[str]


def machine_instance(
    name: str, machine: Machine, user_data: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> ovh.CloudInstance:
    """An instance on the subnet and with a public interface, booting `user_data`.

    New user-data or a new image means a new instance, created before the old one goes
    (for a web node, gated: the old one drains only once the load balancer reports the new
    one healthy, components/gate.py). ignoreChanges on imageId would make a replacement
    keep the old image; the provider's own in-place rebuild would wipe a serving node.
    """
    settings, network = machine.settings, machine.network
    return ovh.CloudInstance(
        name,
        service_name=settings.ovh_service_name,
        region=settings.region,
        name=machine.name,
        flavor_id=machine.flavor_id,
        image_id=machine.image_id,
        networks=[
            ovh.CloudInstanceNetworkArgs(
                network_id=network.network_id, subnet_id=network.subnet_id
            ),
            ovh.CloudInstanceNetworkArgs(auto_assign_public_ip=True),
        ],
        security_group_ids=[machine.group_id],
        # OVHcloud injects one key pair at boot; the first configured key is it.
        ssh_key_name=settings.ssh_keys[0] if settings.ssh_keys else None,
        user_data=user_data,
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                replace_on_changes=["userData", "imageId"], delete_before_replace=False
            ),
        ),
    )


def instance_addresses(
    instance: ovh.CloudInstance, network: Network
) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
    """The instance's private address (on the subnet) and its public one."""

    def first(private: bool) -> pulumi.Output[str]:
        return pulumi.Output.all(instance.current_state, network.subnet_id).apply(
            lambda a: _addresses(a[0], a[1], private=private)[0]
        )

    return first(private=True), first(private=False)


def _addresses(state: Mapping[str, Any], subnet_id: str, private: bool) -> list[str]:
    """IPv4 addresses of the interfaces on (private) or off (public) our subnet.

    Nested outputs arrive as mappings with snake_case keys."""
    return [
        address["ip"]
        for network in state.get("networks") or []
        if (network.get("subnet_id") == subnet_id) == private
        for address in network.get("addresses") or []
        if address.get("version") == 4
    ]


@dataclass(frozen=True)
class NodesArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network
    user_data: pulumi.Input[str]  # secret: holds the database and cache URIs
    # None in the single-node topology; else each node joins its pools and is gated on them.
    balancer: LoadBalancer | None = None


@pulumi.type_token("pyscale:ovh:Nodes")
class Nodes(pulumi.ComponentResource):
    """The security group and the instances; addresses in node order."""

    # One Output per node, for the load balancer's members.
    private_addresses: list[pulumi.Output[str]]
    private_ips: pulumi.Output[list[str]]
    public_ips: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: NodesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        child = pulumi.ResourceOptions(parent=self)
        service_name = settings.ovh_service_name
        flavor_id, image_id = flavor_and_image(
            settings, settings.node_size.name, "pyscale:nodeSize", self
        )
        group = security_group(
            f"{name}-sg",
            settings,
            f"{settings.resource_prefix}-nodes",
            "pyscale nodes: web from the load balancer, SSH from allowed CIDRs",
            ingress_rules(settings, plan),
            parent=self,
        )
        rollout = plan.rollout
        instances: list[ovh.CloudInstance] = []
        gates: list[HealthGate] = []
        self.private_addresses = []
        public: list[pulumi.Output[str]] = []
        for index in range(1, plan.nodes + 1):
            node_name = f"{settings.resource_prefix}-node-{index}"
            # The batch before this node's must have passed its gates first.
            after = batch_dependencies(gates, index - 1, rollout.batch_size)
            instance = machine_instance(
                f"{name}-{index}",
                Machine(settings, network, node_name, flavor_id, image_id, group.id),
                args.user_data,
                pulumi.ResourceOptions(parent=self, depends_on=after),
            )
            instances.append(instance)
            address, public_address = instance_addresses(instance, network)
            self.private_addresses.append(address)
            public.append(public_address)
            if args.balancer is not None and rollout.gated:
                members = args.balancer.add_node(index, address)
                gates.append(
                    HealthGate(
                        f"{name}-{index}-gate",
                        cloud=settings.cloud,
                        node_name=node_name,
                        node_id=instance.id,
                        target={
                            "service_name": service_name,
                            "region": settings.region,
                            "members": members,
                        },
                        rollout=rollout,
                        opts=pulumi.ResourceOptions(parent=self),
                    )
                )
        if settings.backups:
            for index, instance in enumerate(instances, start=1):
                ovh.cloudproject.WorkflowBackup(
                    f"{name}-{index}-backup",
                    service_name=service_name,
                    region_name=settings.region,
                    instance_id=instance.id,
                    name=f"{settings.resource_prefix}-node-{index}-backup",
                    cron=BACKUP_CRON,
                    rotation=BACKUP_ROTATION,
                    opts=child,
                )
        self.private_ips = pulumi.Output.all(*self.private_addresses)
        self.public_ips = pulumi.Output.all(*public)
        self.register_outputs({"private_ips": self.private_ips, "public_ips": self.public_ips})
