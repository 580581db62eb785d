"""The stack's private network, its tags and the Project that groups its resources.

One VPC per stack (settings.vpc_cidr): the load balancer reaches the nodes, and the nodes
reach PostgreSQL and Valkey, on private addresses only. The tags are how everything else
finds the nodes without listing droplet ids: the load balancer targets the web tag (it must
for more than 10 droplets), the cloud firewall applies to it, the database firewalls admit it
and the monitor alerts watch it. They are created as resources so that a firewall or load
balancer never references a tag that does not exist yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from pyscale.settings import Settings

# DigitalOcean's project environments (API: Development, Staging or Production).
PROJECT_ENVIRONMENTS = {"dev": "Development", "staging": "Staging", "prod": "Production"}
PROJECT_PURPOSE = "Web Application"
ROLES = ("web", "db", "cache")


@dataclass(frozen=True)
class Tags:
    """Tag names (as Outputs, so users depend on the Tag resources): stack and roles."""

    stack: pulumi.Output[str]
    web: pulumi.Output[str]
    db: pulumi.Output[str]
    cache: pulumi.Output[str]


@dataclass(frozen=True)
class Network:
    vpc: do.Vpc
    tags: Tags


def tag_names(name: str) -> dict[str, str]:
    """`pyscale-prod` for the stack, `pyscale-prod-web` etc. for each role."""
    return {"stack": name} | {role: f"{name}-{role}" for role in ROLES}


def create(name: str, settings: Settings, parent: pulumi.Resource) -> Network:
    opts = pulumi.ResourceOptions(parent=parent)
    vpc = do.Vpc(
        f"{name}-vpc",
        name=f"{name}-vpc",
        region=settings.region,
        ip_range=settings.vpc_cidr,
        description=f"pyscale {settings.stack}: nodes, load balancer, PostgreSQL, Valkey",
        opts=opts,
    )
    tags = {
        key: do.Tag(f"{name}-tag-{key}", name=value, opts=opts).name
        for key, value in tag_names(name).items()
    }
    return Network(vpc=vpc, tags=Tags(**tags))


def create_project(
    name: str,
    settings: Settings,
    resource_urns: Sequence[pulumi.Input[str]],
    parent: pulumi.Resource,
) -> do.Project:
    """Group the droplets, load balancer and database clusters in the control panel and
    under one set of team permissions; otherwise they land in the default project."""
    return do.Project(
        f"{name}-project",
        name=name,
        description=f"pyscale {settings.stack} ({settings.target_concurrency:,} concurrent)",
        environment=PROJECT_ENVIRONMENTS[settings.environment],
        purpose=PROJECT_PURPOSE,
        resources=list(resource_urns),
        opts=pulumi.ResourceOptions(parent=parent),
    )
