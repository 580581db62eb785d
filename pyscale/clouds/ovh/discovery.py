"""How Prometheus finds OVHcloud nodes: OpenStack instance discovery as the read-only
OpenStack user the stack creates for it (role infrastructure_supervisor), kept to the
instances named `<stack prefix>-node-N`, scraped on their private address
(pyscale/monitoring/scrape.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings import the clouds
    from pyscale.settings import Settings

# OVHcloud's Keystone (Public Cloud's OpenStack identity service).
IDENTITY = "https://auth.cloud.ovh.net/v3"
# OpenStack users of a Public Cloud project live in Keystone's default domain.
DOMAIN = "Default"
# What an offline render writes in the user's place.
PLACEHOLDER = {"username": "user-REDACTED", "password": "REDACTED"}


def scrape_discovery(
    settings: Settings, port: int, credentials: Mapping[str, str]
) -> tuple[dict, list[dict]]:
    """The discovery block and relabelling of one exporter's job; `credentials` holds the
    OpenStack user (`username`, `password`) the monitoring node reads with."""
    discovery = {
        "openstack_sd_configs": [{
            "role": "instance",
            "region": settings.region,
            "identity_endpoint": IDENTITY,
            "domain_name": DOMAIN,
            "project_id": settings.ovh_service_name,
            "username": credentials["username"],
            "password": credentials["password"],
            "port": port,
            "refresh_interval": "60s",
        }],
    }  # fmt: skip
    relabel = [
        {"source_labels": ["__meta_openstack_instance_name"],
         "regex": f"{settings.resource_prefix}-node-[0-9]+", "action": "keep"},
        {"source_labels": ["__meta_openstack_private_ip"], "regex": "(.+)",
         "target_label": "__address__", "replacement": f"${{1}}:{port}"},
        {"source_labels": ["__meta_openstack_instance_name"], "target_label": "instance"},
    ]  # fmt: skip
    return discovery, relabel
