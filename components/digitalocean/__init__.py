"""DigitalOcean wiring: `WebStack` and its parts, one file each: network (VPC and tags),
nodes (droplets and their firewall), loadbalancer, database (PostgreSQL), cache (Valkey),
monitoring (alerts and the uptime check); moved.py keeps the URNs they had before the parts.
"""

from components.digitalocean.webstack import WebStack
from components.webstack import WebStackArgs

__all__ = ["WebStack", "WebStackArgs"]
