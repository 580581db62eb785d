"""Managed PostgreSQL: the primary cluster, its read replicas, the app's database, user and
PgBouncer pool, and the database firewalls.

Writes go through the PgBouncer pool (DATABASE_URL): PostgreSQL admits 25 connections per
GiB minus 3 (DATABASES in pyscale/clouds/digitalocean/catalog.py), far fewer than the
fleet's worker processes, and the pool multiplexes them. Reads go straight to the read
replicas (DATABASE_READ_URLS), as the app user: DigitalOcean's connection pools belong to
the primary cluster (a pool created against a replica is answered 404:
digitalocean/terraform-provider-digitalocean#799; the read-only node docs offer only its
direct connection string), and the capacity model budgets each replica's direct connections
(capacity.DatabasePlan.read_connections_per_replica).

Database firewalls ("trusted sources") cannot reference a cloud firewall; they admit the web
tag, so a new node is trusted as soon as it carries the tag. Each replica has its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import moved
from components.digitalocean.network import Network
from pyscale.capacity import CapacityPlan
from pyscale.settings import Settings
from pyscale.urls import postgres_url, require_tls

ENGINE = "pg"
APP_DATABASE = "pyscale"
APP_USER = "pyscale"
POOL_NAME = "pyscale-pool"
# Cluster creation takes 5-20 minutes and a resize or restore can take hours; the provider's
# default (30 minutes) fails a healthy `pulumi up` halfway. Only `create` is given because it
# is the only key the provider keeps: DatabaseCluster declares a create timeout alone
# (terraform-provider-digitalocean resource_database_cluster.go), and the bridge drops, with a
# warning, every key a resource does not declare (pulumi-terraform-bridge
# pkg/tfshim/sdk-v2/provider2.go). It bounds updates too: a resize or region migration waits
# for the cluster to be `online` again under this same create timeout. A delete sends one
# request and waits for nothing. Replicas declare no timeout at all, so they get none: their
# creation and resize wait for `online` 120 x 15 s (about 30 minutes), hard-coded
# (resource_database_replica.go).
TIMEOUTS = pulumi.CustomTimeouts(create="2h")


@dataclass(frozen=True)
class DatabaseArgs:
    settings: Settings
    plan: CapacityPlan
    network: Network
    # platform: kubernetes: the cluster the firewalls trust instead of the node tags.
    cluster_id: pulumi.Input[str] | None = None


def maintenance_window(settings: Settings) -> do.DatabaseClusterMaintenanceWindowArgs:
    """Day and UTC hour as the provider documents them (`sunday`, `03:00`)."""
    return do.DatabaseClusterMaintenanceWindowArgs(
        day=settings.database.maintenance_day, hour=settings.database.maintenance_hour
    )


def cluster_ca(cluster: do.DatabaseCluster, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The CA certificate (PEM) the cluster's server certificates chain to: the nodes verify
    the server against it (sslmode=verify-full), not just encrypt."""
    found = do.get_database_ca_output(
        cluster_id=cluster.id, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return found.certificate


def trusted_sources(
    network: Network, cluster_id: pulumi.Input[str] | None = None
) -> list[do.DatabaseFirewallRuleArgs]:
    """The web nodes, and the monitoring node where there is one (it reads the metrics
    endpoints, which the same firewall guards); on Kubernetes the cluster, and only it."""
    if cluster_id is not None:
        return [do.DatabaseFirewallRuleArgs(type="k8s", value=cluster_id)]
    tags = [network.tags.web] + ([network.tags.monitor] if network.tags.monitor else [])
    return [do.DatabaseFirewallRuleArgs(type="tag", value=tag) for tag in tags]


@pulumi.type_token("pyscale:digitalocean:Database")
class Database(pulumi.ComponentResource):
    """The PostgreSQL cluster with its standbys, replicas, database, user, pool and firewalls;
    children are named after the stack (settings.resource_prefix), as before this part."""

    primary_uri: pulumi.Output[str]  # secret: the pool, sslmode=require
    read_uris: pulumi.Output[list[str]]  # secret: one per replica, sslmode=require
    cluster_urn: pulumi.Output[str]  # DigitalOcean's own URN, for the Project
    ca: pulumi.Output[str]  # the CA the cluster's certificates chain to (PEM)
    cluster_id: pulumi.Output[str]  # for DigitalOcean's database alerts

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, plan, network = args.settings, args.plan, args.network
        db = settings.database
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        cluster = do.DatabaseCluster(
            f"{prefix}-pg",
            name=f"{prefix}-pg",
            engine=ENGINE,
            version=db.version,
            size=db.size.name,
            region=settings.region,
            # Standby nodes take over when the primary fails; they are not read capacity.
            node_count=1 + db.standby_nodes,
            private_network_uuid=network.vpc_id,
            maintenance_windows=[maintenance_window(settings)],
            tags=[network.tags.stack, network.tags.db],
            opts=moved.child_options(
                self, opts, protect=settings.protect, custom_timeouts=TIMEOUTS
            ),
        )
        database = do.DatabaseDb(
            f"{prefix}-pg-db", cluster_id=cluster.id, name=APP_DATABASE, opts=child
        )
        user = do.DatabaseUser(
            f"{prefix}-pg-user", cluster_id=cluster.id, name=APP_USER, opts=child
        )
        pool = do.DatabaseConnectionPool(
            f"{prefix}-pg-pool",
            cluster_id=cluster.id,
            name=POOL_NAME,
            mode=plan.database.pool_mode,
            size=plan.database.pool_size,
            db_name=database.name,
            user=user.name,
            opts=child,
        )
        do.DatabaseFirewall(
            f"{prefix}-pg-firewall",
            cluster_id=cluster.id,
            rules=trusted_sources(network, args.cluster_id),
            opts=child,
        )
        replica_region = db.replica_region or settings.region
        # A VPC is regional: a replica elsewhere sits in that region's default VPC and the
        # nodes reach it on its public host (TLS either way).
        same_region = replica_region == settings.region
        read_uris = []
        for index in range(1, db.read_replicas + 1):
            replica = do.DatabaseReplica(
                f"{prefix}-pg-replica-{index}",
                cluster_id=cluster.id,
                name=f"{prefix}-pg-replica-{index}",
                region=replica_region,
                # A read-only node must be at least the primary's size.
                size=db.size.name,
                private_network_uuid=network.vpc_id if same_region else None,
                tags=[network.tags.stack, network.tags.db],
                opts=child,
            )
            do.DatabaseFirewall(
                f"{prefix}-pg-replica-{index}-firewall",
                # A replica is addressed by its uuid (its id is its name).
                cluster_id=replica.uuid,
                rules=trusted_sources(network, args.cluster_id),
                opts=child,
            )
            host = replica.private_host if same_region else replica.host
            read_uris.append(
                pulumi.Output.all(
                    user.name, user.password, host, replica.port, database.name
                ).apply(lambda v: postgres_url(*v))
            )
        self.primary_uri = pulumi.Output.secret(pool.private_uri.apply(require_tls))
        self.read_uris = pulumi.Output.secret(pulumi.Output.all(*read_uris))
        self.cluster_urn = cluster.cluster_urn
        self.metrics_endpoints = cluster.metrics_endpoints
        self.cluster_id = cluster.id
        self.ca = cluster_ca(cluster, self)
        self.register_outputs(
            {
                "primary_uri": self.primary_uri,
                "read_uris": self.read_uris,
                "cluster_urn": self.cluster_urn,
                "ca": self.ca,
            }
        )
