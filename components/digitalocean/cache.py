"""Managed Valkey: sessions and cache, so that any node can serve any request.

DigitalOcean's managed Redis is discontinued; Valkey is its Redis-compatible replacement
(`engine="valkey"`, version 8 in the provider's examples). Its `maxmemory-policy` defaults
to `noeviction`, which turns a full cache into write errors; the policy is therefore always
set explicitly, through DatabaseValkeyConfig's `valkey_maxmemory_policy`, and the cluster's
own `eviction_policy` is left unset, because two resources must not manage one setting.
Neither takes an LFU policy: DigitalOcean accepts noeviction, allkeys-lru, allkeys-random,
volatile-lru, volatile-random and volatile-ttl (the cluster argument spells them with
underscores; providers.md D2 for the config resource's validation, which the pinned SDK's
docstring does not list), so settings must refuse allkeys-lfu and volatile-lfu here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import database, moved
from components.digitalocean.network import Network
from pyscale.settings import Settings

ENGINE = "valkey"


@dataclass(frozen=True)
class CacheArgs:
    settings: Settings
    network: Network
    cluster_id: pulumi.Input[str] | None = None  # platform: kubernetes (database.DatabaseArgs)


@pulumi.type_token("pyscale:digitalocean:Cache")
class Cache(pulumi.ComponentResource):
    """The Valkey cluster, its eviction policy and its firewall; children are named after the
    stack (settings.resource_prefix), as before this part existed."""

    uri: pulumi.Output[str]  # secret: rediss:// on the VPC address
    cluster_urn: pulumi.Output[str]  # DigitalOcean's own URN, for the Project
    ca: pulumi.Output[str]  # the CA the cluster's certificate chains to (PEM)
    cluster_id: pulumi.Output[str]  # for DigitalOcean's database alerts

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, network = args.settings, args.network
        prefix = settings.resource_prefix
        child = moved.child_options(self, opts)
        policy = settings.cache.eviction_policy
        if policy == "noeviction":
            pulumi.log.warn(
                "pyscale:cache.evictionPolicy is noeviction: writes fail once the cache is "
                "full; use allkeys-lru unless every key must survive"
            )
        cluster = do.DatabaseCluster(
            f"{prefix}-valkey",
            name=f"{prefix}-valkey",
            engine=ENGINE,
            version=settings.cache.version,
            size=settings.cache.size.name,
            region=settings.region,
            node_count=1,
            private_network_uuid=network.vpc_id,
            maintenance_windows=[database.maintenance_window(settings)],
            tags=[network.tags.stack, network.tags.cache],
            opts=moved.child_options(self, opts, custom_timeouts=database.TIMEOUTS),
        )
        do.DatabaseValkeyConfig(
            f"{prefix}-valkey-config",
            cluster_id=cluster.id,
            valkey_maxmemory_policy=policy,
            opts=child,
        )
        do.DatabaseFirewall(
            f"{prefix}-valkey-firewall",
            cluster_id=cluster.id,
            rules=database.trusted_sources(network, args.cluster_id),
            opts=child,
        )
        self.uri = pulumi.Output.secret(cluster.private_uri)
        self.cluster_urn = cluster.cluster_urn
        self.metrics_endpoints = cluster.metrics_endpoints
        self.cluster_id = cluster.id
        self.ca = database.cluster_ca(cluster, self)
        self.register_outputs({"uri": self.uri, "cluster_urn": self.cluster_urn, "ca": self.ca})
