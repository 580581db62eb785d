"""How Prometheus finds OVHcloud nodes: OpenStack instance discovery with an application
credential, kept to the instances named `<stack prefix>-node-N`, scraped on their private
address (pyscale/monitoring/scrape.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings import the clouds
    from pyscale.settings import Settings

# OVHcloud's Keystone (Public Cloud's OpenStack identity service).
IDENTITY = "https://auth.cloud.ovh.net/v3"


def scrape_discovery(
    settings: Settings, port: int, credentials: Mapping[str, str]
) -> tuple[dict, list[dict]]:
    """The discovery block and relabelling of one exporter's job; `credentials` holds the
    OpenStack application credential (`id`, `secret`) the monitoring node reads with."""
    discovery = {
        "openstack_sd_configs": [{
            "role": "instance",
            "region": settings.region,
            "identity_endpoint": IDENTITY,
            "application_credential_id": credentials.get("id", ""),
            "application_credential_secret": credentials.get("secret", ""),
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
