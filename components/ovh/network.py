"""The private network: a vRack network, one subnet and a gateway in the stack's region.

Everything talks over the vRack: the load balancer reaches the nodes on their private
addresses, and the nodes reach PostgreSQL and Valkey, which are attached to the same subnet
and admit only its CIDR. The gateway is what makes the subnet routable to the internet: a
public load balancer is a floating IP on the VIP port, and OVHcloud attaches a floating IP
only to a port whose subnet sits behind a router with an external gateway ("Public to
Private" architecture, docs.ovhcloud.com, Public Cloud Load Balancer concepts).

The gateway stays in the single-node topology too, where no floating IP needs it: the subnet
hands its gateway address to every node by DHCP, and a dual-homed node may route through it
(OVHcloud's DHCP routes on dual-homed instances: providers.md O9, unverified); with no router
behind that address such a route would lead nowhere. It costs the smallest model's hourly
price (GATEWAY_MODEL in pyscale/clouds/ovh/pricing.py), which the estimate counts.

The vRack is a prerequisite, not a resource of the stack. A private network needs the
project attached to a vRack (without one, creating it fails: "Can not get vrack_id and
segmentation_id"), and `ovh.vrack.CloudProject` could attach it, but only given the vRack's
own service name (`pn-...`), an account-level id the stack does not know; ordering a vRack
from the stack (`ovh.vrack.Vrack`) would place a purchase order. And a project takes one
vRack, shared by every stack in it (OVHcloud "Known limits"): a stack that owned the
attachment would detach it on `pulumi destroy` and cut every other stack's private network.
`pyscale plan` lists it among the prerequisites, with the call that makes it
(POST /vrack/{serviceName}/cloudProject) and the one that checks it
(GET /cloud/project/{serviceName}/vrack).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_ovh as ovh

from pyscale.clouds.ovh.pricing import GATEWAY_MODEL
from pyscale.settings import Settings


def gateway_ip(cidr: str) -> str:
    """The subnet's first host address, by the usual convention, for its router port.

    OVHcloud requires a gateway IP in the subnet attributes for a public load balancer.
    """
    return str(next(ipaddress.ip_network(cidr).hosts()))


@dataclass(frozen=True)
class NetworkArgs:
    settings: Settings


@pulumi.type_token("pyscale:ovh:Network")
class Network(pulumi.ComponentResource):
    """The vRack network, its subnet (settings.vpc_cidr) and the gateway that routes it."""

    network_id: pulumi.Output[str]
    subnet_id: pulumi.Output[str]
    # The load balancer's floating IP needs the router in place first: kept as a resource.
    gateway: ovh.CloudGateway
    cidr: str

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        service_name = settings.ovh_service_name
        network = ovh.CloudNetworkPrivateVrack(
            f"{name}-vrack",
            service_name=service_name,
            region=settings.region,
            name=f"{settings.resource_prefix}-vrack",
            description=f"pyscale {settings.stack}: nodes, load balancer, databases",
            opts=child,
        )
        subnet = ovh.CloudNetworkPrivateVrackSubnet(
            f"{name}-subnet",
            service_name=service_name,
            region=settings.region,
            network_id=network.id,
            name=f"{settings.resource_prefix}-subnet",
            cidr=settings.vpc_cidr,
            dhcp_enabled=True,
            gateway_ip=gateway_ip(settings.vpc_cidr),
            opts=child,
        )
        gateway = ovh.CloudGateway(
            f"{name}-gateway",
            service_name=service_name,
            region=settings.region,
            name=f"{settings.resource_prefix}-gateway",
            external_gateway=ovh.CloudGatewayExternalGatewayArgs(enabled=True, model=GATEWAY_MODEL),
            subnet_ids=[subnet.id],
            opts=child,
        )
        self.network_id = network.id
        self.subnet_id = subnet.id
        self.gateway = gateway
        self.cidr = settings.vpc_cidr
        self.register_outputs(
            {"network_id": network.id, "subnet_id": subnet.id, "gateway_id": gateway.id}
        )
