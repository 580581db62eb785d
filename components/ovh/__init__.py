"""OVHcloud wiring: `WebStack` and its parts, one file each: network (vRack, subnet,
gateway), nodes (instances and their security group), loadbalancer (Octavia), database
(PostgreSQL), cache (Valkey). No monitoring part: webstack.py says why.

Every resource names the project by `serviceName` = settings.ovh_service_name; the
credentials (OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY)
come from the environment or the `ovh:` stack config, as the provider reads them.
"""

from components.ovh.webstack import WebStack
from components.webstack import WebStackArgs

__all__ = ["WebStack", "WebStackArgs"]
