"""Managed PostgreSQL on the private subnet: the service, the app's database, user and pool.

OVHcloud has no read-replica resource: the service plan fixes the node count (essential 1,
business 2, enterprise 3: one primary, the rest standbys), and the standbys serve reads
(OVHcloud PostgreSQL capabilities; "for read-only operations, you can connect to replica
nodes", PostgreSQL high-availability concepts). Writes go through the PgBouncer pool on the
primary, sized by the capacity plan; reads go to the service's read-only endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_ovh as ovh

from components.ovh.network import Network
from pyscale.capacity import CapacityPlan
from pyscale.clouds.ovh.catalog import DATABASE_PLANS
from pyscale.settings import Settings
from pyscale.urls import postgres_url

ENGINE = "postgresql"
APP_NAME = "pyscale"
# Endpoint components in the service's `endpoints` list: the primary, and the read-only
# endpoint that OVHcloud (Aiven underneath) points at the standby nodes.
PRIMARY_COMPONENT = "postgresql"
READ_COMPONENT = "postgresqlRead"
# Creating or resizing a service takes tens of minutes; the provider's defaults are 40, 40
# and 20 minutes. It declares all three keys (terraform-provider-ovh
# resource_cloud_project_database.go), so the bridge keeps all three.
TIMEOUTS = pulumi.CustomTimeouts(create="60m", update="60m", delete="30m")

# Deletion protection and advanced configuration are kept, though the provider sets them with
# a full PUT of the service right after creating it (resource_cloud_project_database.go:
# create, wait for READY, then update when either is set), the call that
# ovh/terraform-provider-ovh#1148 (open) reports failing with internal API errors. That
# report's service set neither: the PUT is the same one every later change of flavor, IP
# restrictions or maintenance time makes, so dropping these would not take the service off
# that path, only lose what they give: an API-side protection that outlives `pulumi state
# unprotect` and a lost state (PostgreSQL), no RDB forks under load (Valkey). There is no
# other way to set either: the provider has no separate resource for them. If the PUT fails
# at creation, the service exists and is READY: the bridge is meant to record it as partially
# created, for the next `pulumi up` to retry the update (pulumi-terraform-bridge#2696); where
# it does not, `pulumi import` adopts the service instead of a second one being created.

# Public Cloud Databases run in their own region names: the compute region's city
# (OVHcloud PostgreSQL and Valkey capabilities, "Supported regions"). Compute regions
# without managed databases (SYD1, RBX-A) and those with Valkey but no PostgreSQL
# (EU-WEST-PAR, EU-SOUTH-MIL) are refused by settings (REGIONS in
# pyscale/clouds/ovh/catalog.py, providers.md O1).
DATABASE_REGIONS = {
    "BHS5": "BHS",
    "DE1": "DE",
    "GRA7": "GRA",
    "GRA9": "GRA",
    "GRA11": "GRA",
    "SBG5": "SBG",
    "SGP1": "SGP",
    "UK1": "UK",
    "WAW1": "WAW",
}


def database_region(region: str) -> str:
    """The managed-database region serving a compute region."""
    return DATABASE_REGIONS[region]


def service_nodes(settings: Settings, network: Network, count: int) -> list[Any]:
    """`count` identical nodes on the private subnet: the nodes list is how OVHcloud sizes
    a service (the plan fixes its length) and where it attaches it to the vRack."""
    return [
        ovh.cloudproject.DatabaseNodeArgs(
            region=database_region(settings.region),
            network_id=network.network_id,
            subnet_id=network.subnet_id,
        )
        for _ in range(count)
    ]


def private_only(network: Network) -> list[ovh.cloudproject.DatabaseIpRestrictionArgs]:
    """A service admits no client until an IP block is authorised: authorise the subnet only."""
    return [
        ovh.cloudproject.DatabaseIpRestrictionArgs(
            ip=network.cidr, description="pyscale private subnet (nodes)"
        )
    ]


def service_ca(
    service: ovh.cloudproject.Database, engine: str, parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The CA certificate (PEM) the service's certificates chain to: the nodes verify the
    server against it (sslmode=verify-full), not just encrypt."""
    found = ovh.cloudprojectdatabase.get_certificates_output(
        service_name=service.service_name,
        engine=engine,
        cluster_id=service.id,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    return found.ca


def endpoint(endpoints: Sequence[Mapping[str, Any]], component: str) -> Mapping[str, Any] | None:
    """The endpoint for `component`; nested outputs arrive as mappings, snake_case keys."""
    return next((e for e in endpoints if e["component"] == component), None)


@dataclass(frozen=True)
class DatabaseArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network


@pulumi.type_token("pyscale:ovh:Database")
class Database(pulumi.ComponentResource):
    """The PostgreSQL service with its standbys, the app's database, user and pool."""

    primary_uri: pulumi.Output[str]
    read_uris: pulumi.Output[list[str]]
    ca: pulumi.Output[str]  # the CA the service's certificates chain to (PEM)

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        child = pulumi.ResourceOptions(parent=self)
        db = settings.database
        service_name = settings.ovh_service_name
        # Inputs kept stable (no computed values but the network ids), so that no unrelated
        # change sends the full PUT that #1148 reports failing (the note under TIMEOUTS).
        service = ovh.cloudproject.Database(
            f"{name}-postgresql",
            service_name=service_name,
            description=f"{settings.resource_prefix}-postgresql",
            engine=ENGINE,
            version=db.version,
            plan=db.ovh_plan,
            flavor=db.size.name,
            nodes=service_nodes(settings, network, DATABASE_PLANS[db.ovh_plan]),
            ip_restrictions=private_only(network),
            maintenance_time=f"{db.maintenance_hour}:00",
            deletion_protection=settings.protect,
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.protect, custom_timeouts=TIMEOUTS
            ),
        )
        database = ovh.cloudprojectdatabase.DatabaseInstance(
            f"{name}-database",
            service_name=service_name,
            cluster_id=service.id,
            engine=ENGINE,
            name=APP_NAME,
            opts=child,
        )
        user = ovh.cloudprojectdatabase.PostgresSqlUser(
            f"{name}-user",
            service_name=service_name,
            cluster_id=service.id,
            name=APP_NAME,
            opts=child,
        )
        pool = ovh.cloudprojectdatabase.PostgresSqlConnectionPool(
            f"{name}-pool",
            service_name=service_name,
            cluster_id=service.id,
            database_id=database.id,
            user_id=user.id,
            name=f"{APP_NAME}-pool",
            mode=plan.database.pool_mode,
            size=plan.database.pool_size,
            opts=child,
        )

        def primary(
            endpoints: Sequence[Mapping[str, Any]], password: str, port: int, pool_name: str
        ) -> str:
            host = endpoint(endpoints, PRIMARY_COMPONENT)["domain"]
            return postgres_url(APP_NAME, password, host, port, pool_name)

        def reads(endpoints: Sequence[Mapping[str, Any]], password: str) -> list[str]:
            # Essential has no standby: the app then reads through the primary pool.
            if not plan.database.read_replicas:
                return []
            read = endpoint(endpoints, READ_COMPONENT)
            if read is None:
                pulumi.log.warn(
                    f"{name}: no '{READ_COMPONENT}' endpoint on the PostgreSQL service; "
                    "reads go to the primary pool",
                    resource=self,
                )
                return []
            return [postgres_url(APP_NAME, password, read["domain"], read["port"], APP_NAME)]

        self.primary_uri = pulumi.Output.secret(
            pulumi.Output.all(service.endpoints, user.password, pool.port, pool.name).apply(
                lambda a: primary(*a)
            )
        )
        self.read_uris = pulumi.Output.secret(
            pulumi.Output.all(service.endpoints, user.password).apply(lambda a: reads(*a))
        )
        self.ca = service_ca(service, ENGINE, self)
        self.service_id, self.engine = service.id, ENGINE
        self.register_outputs(
            {"primary_uri": self.primary_uri, "read_uris": self.read_uris, "ca": self.ca}
        )
