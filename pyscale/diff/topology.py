"""A picture of a stack: its topology as a Mermaid flowchart, from a `plan --json` document.

What a reviewer checks at a glance: where traffic enters (the load balancer, or the single
node itself), how many nodes of what size, the PostgreSQL primary and its read replicas,
the cache, the private network they share and the firewall edges between them. A diff
marks the parts a change touches (`changed`), so a template edit lights up the nodes.
GitHub renders a ```mermaid block in a comment; `pyscale plan --format mermaid` prints it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# The type tokens' endings, the same on every module path (index/, CloudProject/...).
LOAD_BALANCERS = ("/loadBalancer:LoadBalancer", "/cloudLoadbalancer:CloudLoadbalancer")
NODES = ("/droplet:Droplet", "/cloudInstance:CloudInstance", "/instance:Instance")
DATABASES = ("/databaseCluster:DatabaseCluster", "/database:Database")
REPLICAS = ("/databaseReplica:DatabaseReplica",)
FIREWALLS = ("/firewall:Firewall", "/cloudSecurityGroup:CloudSecurityGroup")
NETWORKS = ("/vpc:Vpc", "/cloudNetworkPrivateVrackSubnet:CloudNetworkPrivateVrackSubnet")
CACHE_ENGINES = ("valkey", "redis")
_UNSAFE = re.compile(r"[^\w .,:/()+-]")


def _label(text: object) -> str:
    """A Mermaid label that cannot close its quotes or start markup."""
    return _UNSAFE.sub("", str(text))[:60]


def role(resource: Mapping[str, Any]) -> str | None:
    """What a resource is in the picture: lb, nodes, database, replicas, cache, firewall,
    network; None for what the picture does not draw."""
    token = str(resource.get("type", ""))
    engine = str((resource.get("inputs") or {}).get("engine", "")).lower()
    for name, suffixes in (("lb", LOAD_BALANCERS), ("nodes", NODES), ("replicas", REPLICAS),
                           ("firewall", FIREWALLS), ("network", NETWORKS)):  # fmt: skip
        if token.endswith(suffixes):
            return name
    if token.endswith(DATABASES):
        return "cache" if engine in CACHE_ENGINES else "database"
    return None


def roles(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    found: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        name = role(resource)
        if name:
            found.setdefault(name, []).append(resource)
    return found


def _size(resources: list[Mapping[str, Any]]) -> str:
    inputs = resources[0].get("inputs") or {} if resources else {}
    for key in ("size", "flavor", "flavorName", "sizeUnit"):
        if inputs.get(key):
            return _label(inputs[key])
    return ""


def flowchart(doc: Mapping[str, Any], changed: Iterable[str] = ()) -> list[str]:
    """The stack as Mermaid flowchart lines; parts whose role is in `changed` are marked."""
    found = roles(doc.get("resources") or [])
    cap = doc.get("capacity") or {}
    nodes = cap.get("nodes") or len(found.get("nodes", []))
    vpc = next(
        (_label(r.get("inputs", {}).get(k)) for r in found.get("network", [])
         for k in ("ipRange", "cidr") if r.get("inputs", {}).get(k)),
        "",
    )  # fmt: skip
    # platform: kubernetes: the load balancer is the gateway Service's (the cloud's
    # controller makes it), and the nodes are a pool cut into pods.
    pods = cap.get("pods")
    if pods:
        found.setdefault("lb", [])
    lines = ["flowchart LR", '  internet(("Internet"))']
    lines.append(f'  subgraph vpc["private network {vpc}"]'.rstrip())
    if "lb" in found:
        lb = cap.get("load_balancer") or {}
        lines.append(f'    lb["load balancer, size {_label(lb.get("size", ""))}"]')
    if pods:
        each = (f"{pods.get('minimum')}-{pods.get('maximum')} pods of {pods.get('vcpus')} vCPU, "
                "behind the gateway")  # fmt: skip
        lines.append(f'    nodes["{_label(nodes)} pool node(s), {_label(each)}"]')
    else:
        each = f"{cap.get('vcpus', '?')} vCPU / {cap.get('memory_gib', '?')} GiB"
        lines.append(f'    nodes["{_label(nodes)} node(s), {_label(each)}"]')
    if "database" in found:
        lines.append(f'    database[("PostgreSQL primary {_size(found["database"])}")]')
    replicas = len(found.get("replicas", [])) or (cap.get("database") or {}).get("read_replicas", 0)
    if replicas:
        lines.append(f'    replicas[("{replicas} read replica(s)")]')
    if "cache" in found:
        lines.append(f'    cache[("Valkey {_size(found["cache"])}")]')
    lines.append("  end")
    web = "firewall: 80 from the load balancer only" if "firewall" in found else "80"
    if "lb" in found:
        lines += ['  internet -->|"HTTPS 443"| lb', f'  lb -->|"{web}"| nodes']
    else:
        lines.append('  internet -->|"HTTPS 443, HTTP 80"| nodes')
    if "database" in found:
        lines.append('  nodes -->|"writes: pool, TLS verify-full"| database')
    if replicas:
        lines += ['  nodes -->|"reads"| replicas', '  database -.->|"replication"| replicas']
    if "cache" in found:
        lines.append('  nodes -->|"TLS"| cache')
    drawn = {"lb", "nodes", "database", "replicas", "cache"}
    marked = sorted(drawn & set(changed))
    if marked:
        lines += ["  classDef changed stroke:#d73a49,stroke-width:3px",
                  f"  class {','.join(marked)} changed"]  # fmt: skip
    return lines
