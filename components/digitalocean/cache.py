"""Managed Valkey: sessions and cache, so that any node can serve any request.

DigitalOcean's managed Redis is discontinued; Valkey is its Redis-compatible replacement
(`engine="valkey"`, version 8 in the provider's examples). Its `maxmemory-policy` defaults
to `noeviction`, which turns a full cache into write errors; the policy is therefore always
set explicitly, through DatabaseValkeyConfig's `valkey_maxmemory_policy`. (The cluster's own
`eviction_policy` argument accepts only an underscore subset without the LFU policies that
settings allow, and two resources must not manage one setting.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as do

from components.digitalocean import database
from components.digitalocean.network import Network
from pyscale.settings import Settings

ENGINE = "valkey"


@dataclass(frozen=True)
class Cache:
    cluster: do.DatabaseCluster
    url: pulumi.Output[str]  # secret: rediss:// on the VPC address


def create(name: str, settings: Settings, network: Network, parent: pulumi.Resource) -> Cache:
    opts = pulumi.ResourceOptions(parent=parent)
    policy = settings.cache.eviction_policy
    if policy == "noeviction":
        pulumi.log.warn(
            "pyscale:cache.evictionPolicy is noeviction: writes fail once the cache is full; "
            "use allkeys-lru unless every key must survive"
        )
    cluster = do.DatabaseCluster(
        f"{name}-valkey",
        name=f"{name}-valkey",
        engine=ENGINE,
        version=settings.cache.version,
        size=settings.cache.size.name,
        region=settings.region,
        node_count=1,
        private_network_uuid=network.vpc.id,
        maintenance_windows=[database.maintenance_window(settings)],
        tags=[network.tags.stack, network.tags.cache],
        opts=pulumi.ResourceOptions(parent=parent, custom_timeouts=database.TIMEOUTS),
    )
    do.DatabaseValkeyConfig(
        f"{name}-valkey-config",
        cluster_id=cluster.id,
        valkey_maxmemory_policy=policy,
        opts=opts,
    )
    do.DatabaseFirewall(
        f"{name}-valkey-firewall",
        cluster_id=cluster.id,
        rules=database.trusted_sources(network),
        opts=opts,
    )
    return Cache(
        cluster=cluster,
        url=pulumi.Output.secret(cluster.private_uri),
    )
