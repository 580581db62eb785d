"""The connection strings a node's env file holds: real ones, as the stacks pass them inside
an Output, or documentation-style placeholders for offline renders."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pyscale.capacity import CapacityPlan
from pyscale.clouds.base import EXAMPLE_CA


@dataclass(frozen=True)
class NodeSecrets:
    """The connection strings a node needs; secrets, so the stacks pass them as Outputs.
    `provider_ca` is the data stores' CA certificates (PEM, not secret): with it the node
    verifies PostgreSQL (sslmode=verify-full) and Valkey against them; without it (a local
    node's plain services) the URLs are used as given."""

    database_url: str
    database_read_urls: tuple[str, ...]
    redis_url: str
    provider_ca: str = ""


# Documentation-style hosts (RFC 6761 `.example`): an offline render shows the shape of the
# env file without a real credential.
_PLACEHOLDER_DB = (
    "postgresql://pyscale:REDACTED@{host}.example.internal:25061/pyscale?sslmode=require"
)
# Valid for every plan (no read replica URL: the app then reads from the primary's pool).
PLACEHOLDER_SECRETS = NodeSecrets(
    database_url=_PLACEHOLDER_DB.format(host="db-primary"),
    database_read_urls=(),
    redis_url="rediss://default:REDACTED@cache.example.internal:25061/0",
    provider_ca=EXAMPLE_CA,
)


def placeholder_secrets(plan: CapacityPlan) -> NodeSecrets:
    """PLACEHOLDER_SECRETS with one read URL per replica the plan counts: an offline render
    whose env file has the shape the stack's nodes will get."""
    return dataclasses.replace(
        PLACEHOLDER_SECRETS,
        database_read_urls=tuple(
            _PLACEHOLDER_DB.format(host=f"db-replica-{i}")
            for i in range(1, plan.database.read_replicas + 1)
        ),
    )
