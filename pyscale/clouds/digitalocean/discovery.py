"""How Prometheus finds DigitalOcean nodes: droplet discovery with a read-only token (the
secret pyscale:monitoringToken, droplet:read scope: DigitalOcean's provider cannot create
tokens), kept to the droplets carrying the stack's web tag (the tag the load balancer and
the firewall follow), scraped on their private address (pyscale/monitoring/scrape.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings import the clouds
    from pyscale.settings import Settings

# What an offline render writes in the token's place.
PLACEHOLDER = {"token": "dop_v1_" + "0" * 64}
# How often the droplet list is read: a fixed fleet changes only with `pulumi up`; a Droplet
# autoscale pool's members come and go on their own, and a leaving one is destroyed 60 s
# after its shutdown (catalog.POOL_SHUTDOWN_S), so the list is read twice as often and only
# running droplets are scraped: a member leaving the pool drops out of the targets within
# about 90 s, before the 2-minute PyscaleNodeDown alert could page for it.
REFRESH = "60s"
POOL_REFRESH = "30s"


def scrape_discovery(
    settings: Settings, port: int, credentials: Mapping[str, str]
) -> tuple[dict, list[dict]]:
    """The discovery block and relabelling of one exporter's job; `credentials` holds the
    read-only API `token`."""
    web_tag = f"{settings.resource_prefix}-web"
    pool = settings.autoscale.enabled
    discovery = {
        "digitalocean_sd_configs": [{
            "authorization": {"credentials": credentials["token"]},
            "port": port,
            "refresh_interval": POOL_REFRESH if pool else REFRESH,
        }],
    }  # fmt: skip
    # A pool member shutting down (status off) is leaving: not scraped.
    running = [{"source_labels": ["__meta_digitalocean_status"], "regex": "active",
                "action": "keep"}] if pool else []  # fmt: skip
    relabel = [
        # __meta_digitalocean_tags is ",tag1,tag2,": the web tag as a whole entry.
        {"source_labels": ["__meta_digitalocean_tags"], "regex": f".*,{web_tag},.*",
         "action": "keep"},
        {"source_labels": ["__meta_digitalocean_private_ipv4"], "regex": "(.+)",
         "target_label": "__address__", "replacement": f"${{1}}:{port}"},
        {"source_labels": ["__meta_digitalocean_droplet_name"], "target_label": "instance"},
        *running,
    ]  # fmt: skip
    return discovery, relabel
