"""The stack's private network and its tags.

One VPC per stack (settings.vpc_cidr): the load balancer reaches the nodes, and the nodes
reach PostgreSQL and Valkey, on private addresses only. The tags are how everything else
finds the nodes without listing droplet ids: the load balancer targets the web tag (it must
for more than 10 droplets), the cloud firewall applies to it, the database firewalls admit it
and the monitor alerts watch it. They are created as resources so that a firewall or load
balancer never references a tag that does not exist yet.

The first VPC an account creates in a region becomes that region's default VPC, and the
default VPC of a region can be neither unset nor deleted (openapi vpcs_create.yml,
vpcs_delete.yml: 403 Forbidden). In an account with no VPC yet in `settings.region`, this
stack's VPC is that one: `pulumi destroy` then deletes everything but fails on the VPC. To
destroy such a stack, first make another VPC of the region its default (set `default: true`
on it, in the control panel or `PATCH /v2/vpcs/{id}`), or remove this one from the state
(`pulumi state delete <urn>`) and leave it, empty and free, in the account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import moved
from pyscale.settings import Settings

ROLES = ("web", "db", "cache")
# The monitoring node's role, tagged only where the stack runs one (monitoring.node).
MONITOR = "monitor"


@dataclass(frozen=True)
class Tags:
    """Tag names (as Outputs, so users depend on the Tag resources): stack and roles."""

    stack: pulumi.Output[str]
    web: pulumi.Output[str]
    db: pulumi.Output[str]
    cache: pulumi.Output[str]
    monitor: pulumi.Output[str] | None = None  # None without a monitoring node


@dataclass(frozen=True)
class NetworkArgs:
    settings: Settings


def tag_names(settings: Settings) -> dict[str, str]:
    """`pyscale-prod` for the stack, `pyscale-prod-web` etc. for each role it has."""
    prefix = settings.resource_prefix
    roles = (*ROLES, MONITOR) if settings.monitoring.node else ROLES
    return {"stack": prefix} | {role: f"{prefix}-{role}" for role in roles}


@pulumi.type_token("pyscale:digitalocean:Network")
class Network(pulumi.ComponentResource):
    """The VPC and the stack and role tags; children are named after the stack
    (settings.resource_prefix), as they were before this part existed."""

    vpc_id: pulumi.Output[str]
    tags: Tags

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings = args.settings
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        vpc = do.Vpc(
            f"{prefix}-vpc",
            name=f"{prefix}-vpc",
            region=settings.region,
            ip_range=settings.vpc_cidr,
            description=f"pyscale {settings.stack}: nodes, load balancer, PostgreSQL, Valkey",
            opts=child,
        )
        tags = {
            key: do.Tag(f"{prefix}-tag-{key}", name=value, opts=child).name
            for key, value in tag_names(settings).items()
        }
        self.vpc_id = vpc.id
        self.tags = Tags(**tags)
        self.register_outputs({"vpc_id": self.vpc_id, "tags": tags})
