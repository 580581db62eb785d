"""DigitalOcean wiring: `WebStack` and its parts (network, nodes, loadbalancer, database,
cache, monitoring), and `mocks` for running the program offline."""

from components.digitalocean.webstack import WebStack
from components.webstack import WebStackArgs

__all__ = ["WebStack", "WebStackArgs"]
