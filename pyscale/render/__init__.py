"""Node files from the plan: the `#cloud-config` user-data every node boots from and each file
it writes (`node`), the fixed values the plan does not model (`NODE`), the connection
strings the env file holds (`NodeSecrets`), and the node's locked Python environment
(`lock`, `NODE_LOCK`). Templates live in cloud-init/, named as the files land on the node.

Pure Python: no Pulumi import. The cloud stacks call `node` inside an `Output.apply` with
the real database and cache URIs; offline renders use `placeholder_secrets`.
"""

from pyscale.render.cloudinit import (
    APP_CHECKOUT,
    APP_DIR,
    ASGI_WORKER_MODULE,
    DEMO_DIR,
    NODE_LOCK,
    REPO,
    WORKER_MODULE,
    NodeFile,
    RenderedNode,
    node,
    node_pins,
    write_tree,
)
from pyscale.render.defaults import METRICS_PORTS, NODE, NodeDefaults, web_ports
from pyscale.render.secrets import PLACEHOLDER_SECRETS, NodeSecrets, placeholder_secrets

__all__ = [
    "APP_CHECKOUT",
    "APP_DIR",
    "ASGI_WORKER_MODULE",
    "DEMO_DIR",
    "METRICS_PORTS",
    "NODE",
    "NODE_LOCK",
    "PLACEHOLDER_SECRETS",
    "REPO",
    "WORKER_MODULE",
    "NodeDefaults",
    "NodeFile",
    "NodeSecrets",
    "RenderedNode",
    "node",
    "node_pins",
    "placeholder_secrets",
    "web_ports",
    "write_tree",
]
