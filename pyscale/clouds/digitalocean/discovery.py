"""How Prometheus finds DigitalOcean nodes: droplet discovery with a read-only token, kept to
the droplets carrying the stack's web tag (the tag the load balancer and the firewall
follow), scraped on their private address (pyscale/monitoring/scrape.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings import the clouds
    from pyscale.settings import Settings

# Beside prometheus.yml (relative paths are read from its directory).
TOKEN_FILE = "digitalocean-token"


def scrape_discovery(
    settings: Settings, port: int, credentials: Mapping[str, str]
) -> tuple[dict, list[dict]]:
    """The discovery block and relabelling of one exporter's job (`credentials` unused: the
    token is read from TOKEN_FILE on the monitoring node)."""
    web_tag = f"{settings.resource_prefix}-web"
    discovery = {
        "digitalocean_sd_configs": [{
            "authorization": {"credentials_file": TOKEN_FILE},
            "port": port,
            "refresh_interval": "60s",
        }],
    }  # fmt: skip
    relabel = [
        # __meta_digitalocean_tags is ",tag1,tag2,": the web tag as a whole entry.
        {"source_labels": ["__meta_digitalocean_tags"], "regex": f".*,{web_tag},.*",
         "action": "keep"},
        {"source_labels": ["__meta_digitalocean_private_ipv4"], "regex": "(.+)",
         "target_label": "__address__", "replacement": f"${{1}}:{port}"},
        {"source_labels": ["__meta_digitalocean_droplet_name"], "target_label": "instance"},
    ]  # fmt: skip
    return discovery, relabel
