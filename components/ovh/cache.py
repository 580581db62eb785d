"""Managed Valkey on the private subnet, for the app's cache and sessions (REDIS_URL).

OVHcloud is replacing its Redis offer with Valkey (engine `valkey`). Its documented advanced
parameters (OVHcloud, "Advanced parameters for Public Cloud Databases for Valkey") have no
`maxmemory-policy`, so the eviction policy cannot be set here: the app must give cache keys
a TTL. What the parameters do allow for a cache is turning RDB persistence off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_ovh as ovh

from components.ovh.database import (
    TIMEOUTS,
    endpoint,
    private_only,
    service_ca,
    service_nodes,
)
from components.ovh.network import Network
from pyscale.clouds.ovh import catalog
from pyscale.settings import Settings

ENGINE = "valkey"
COMPONENT = "valkey"
# One node: a cache is rebuilt from the database, so the essential plan is enough; the
# business plan's second node would double the price for data that can be lost.
PLAN = "essential"
PLAN_NODES = 1
# A cache needs no RDB dumps: they fork the server under load and back up throwaway data.
# Set through the PUT that follows creation (components/ovh/database.py says why it is kept
# despite ovh/terraform-provider-ovh#1148).
ADVANCED_CONFIGURATION = {"redis_persistence": "off"}
APP_USER = "pyscale"


def redis_url(user: str, password: str, host: str, port: int) -> str:
    """A TLS (rediss://) URL: OVHcloud's Valkey endpoints require SSL."""
    return f"rediss://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/0"


@dataclass(frozen=True)
class CacheArgs:
    settings: Settings
    network: Network


@pulumi.type_token("pyscale:ovh:Cache")
class Cache(pulumi.ComponentResource):
    """The Valkey service and the app's user; `uri` is the app's REDIS_URL."""

    uri: pulumi.Output[str]
    ca: pulumi.Output[str]  # the CA the service's certificate chains to (PEM)

    def __init__(
        self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(pulumi.get_type_token(type(self)), name, {}, opts)
        settings, network = args.settings, args.network
        service_name = settings.ovh_service_name
        service = ovh.cloudproject.Database(
            f"{name}-valkey",
            service_name=service_name,
            description=f"{settings.resource_prefix}-valkey",
            engine=ENGINE,
            version=catalog.VALKEY_VERSIONS[settings.cache.version],
            plan=PLAN,
            flavor=settings.cache.size.name,
            nodes=service_nodes(settings, network, PLAN_NODES),
            ip_restrictions=private_only(network),
            advanced_configuration=ADVANCED_CONFIGURATION,
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=TIMEOUTS),
        )
        # The app's own ACL user (every command category, key and channel) rather than `default`.
        user = ovh.CloudProjectDatabaseValkeyUser(
            f"{name}-user",
            service_name=service_name,
            cluster_id=service.id,
            name=APP_USER,
            categories=["+@all"],
            keys=["*"],
            channels=["*"],
            opts=pulumi.ResourceOptions(parent=self),
        )

        def url(endpoints: Sequence[Mapping[str, Any]], password: str) -> str:
            valkey = endpoint(endpoints, COMPONENT)
            return redis_url(APP_USER, password, valkey["domain"], valkey["port"])

        self.uri = pulumi.Output.secret(
            pulumi.Output.all(service.endpoints, user.password).apply(lambda a: url(*a))
        )
        self.ca = service_ca(service, ENGINE, self)
        self.service_id, self.engine = service.id, ENGINE
        self.register_outputs({"uri": self.uri, "ca": self.ca})
