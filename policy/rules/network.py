"""Network exposure: what the internet can reach on a node, and where nodes live."""

from __future__ import annotations

from .ingress import (
    Ingress,
    covered_families,
    ingress_rules,
    is_public_source,
    source_network,
    tcp,
)
from .reading import Finding, Res, at, in_monitor, webstack
from .tokens import (
    DO_DROPLET,
    DO_DROPLET_AUTOSCALE,
    LOAD_BALANCER_TYPES,
    NODE_TYPES,
    OS_SECGROUP_RULE,
    PRIVATE_NETWORK_TYPES,
)

SSH_PORT = 22
WEB_PORTS = (80, 443)
SSH_ADVICE = "allow SSH from named CIDRs (pyscale:sshAllowCidrs) or use the provider's console"
# Monitoring: Grafana, Prometheus and Alertmanager on the monitoring node; the node and
# Nginx exporters and the app's metrics on every node. None has a login that matters.
MONITORING_PORTS = (3000, 9090, 9093, 9100, 9113, 9464)
MONITORING_ADVICE = (
    "metrics and dashboards are for the private network and pyscale:monitoring.adminCidrs"
)


def _public_port_problems(name: str, rules: list[Ingress], port: int, advice: str) -> list[str]:
    """Why the union of `rules`' sources on `port` is public, naming `name`; or nothing."""
    sources = [s for rule in rules if tcp(rule) and rule.covers(port) for s in rule.sources]
    read = {str(s): source_network(s) for s in sources if isinstance(s, str)}
    found = []
    unreadable = sorted(s for s, network in read.items() if network is None)
    if unreadable:
        found.append(
            f"{name}: inbound tcp port {port} from {', '.join(map(repr, unreadable))}, "
            "which is not an address in CIDR form: what it admits cannot be checked"
        )
    covered = covered_families([n for n in read.values() if n is not None])
    if covered:
        named = sorted(s for s, network in read.items() if network is not None)
        found.append(
            f"{name}: inbound tcp port {port} from {', '.join(named)}, which together "
            f"cover {' and '.join(covered)}; {advice}"
        )
    return found


def _ssh_problems(name: str, rules: list[Ingress]) -> list[str]:
    return _public_port_problems(name, rules, SSH_PORT, SSH_ADVICE)


def check_ssh_not_public(res: Res) -> list[str]:
    """Port 22 open to the whole internet is the first thing scanners find. Judged on the
    union of every source the resource admits to port 22, however each is written."""
    return _ssh_problems(res.name, ingress_rules(res))


def check_monitoring_not_public(res: Res) -> list[str]:
    """Prometheus, Alertmanager and the exporters have no login, and Grafana's viewers need
    none: none of their ports may be open to the whole internet (a port range covering
    them counts), however the sources are written."""
    rules = ingress_rules(res)
    found: list[str] = []
    for port in MONITORING_PORTS:
        found += [
            p
            for p in _public_port_problems(res.name, rules, port, MONITORING_ADVICE)
            if p not in found
        ]
    return found


def check_ssh_not_public_across_rules(resources: list[Res]) -> list[Finding]:
    """OpenStack rules are resources of their own: port 22 must not be open to the whole
    internet through several rules of one security group, none public alone. A rule whose
    group is not known yet (a preview of a new group) is judged at `pulumi up`, once the
    group exists: joining unknown groups would join rules of different groups."""
    groups: dict[str, list[Res]] = {}
    for res in resources:
        group = res.get("securityGroupId")
        if res.type == OS_SECGROUP_RULE and isinstance(group, str) and ingress_rules(res):
            groups.setdefault(group, []).append(res)
    found: list[Finding] = []
    for members in groups.values():
        if len(members) < 2 or any(check_ssh_not_public(r) for r in members):
            continue  # one rule is ssh-not-public's to report
        names = ", ".join(sorted(r.name for r in members))
        rules = [rule for r in members for rule in ingress_rules(r)]
        found += [(m, members[0].urn) for m in _ssh_problems(f"rules {names}", rules)]
    return found


def _single_node_topology(resources: list[Res]) -> bool:
    """dev: one node, no load balancer, Nginx faces the internet itself."""
    stack = webstack(resources)
    no_balancer = not any(r.type in LOAD_BALANCER_TYPES for r in resources)
    nodes = sum(r.type in NODE_TYPES and not in_monitor(r) for r in resources)
    declared = stack.get("nodeCount") if stack is not None else None
    return no_balancer and nodes <= 1 and declared in (None, 1)


def check_web_through_load_balancer(resources: list[Res]) -> list[Finding]:
    """Behind a load balancer, a node answering the internet directly skips TLS and health."""
    if _single_node_topology(resources):
        return []
    findings: list[Finding] = []
    for res in resources:
        for rule in ingress_rules(res):
            public = sorted(str(s) for s in rule.sources if is_public_source(s))
            ports = "/".join(str(p) for p in WEB_PORTS if rule.covers(p))
            if tcp(rule) and ports and public:
                findings.append(
                    at(
                        res,
                        f"inbound port {ports} from {', '.join(public)}; with a load balancer, "
                        "web traffic reaches nodes only from it (DigitalOcean: "
                        "sourceLoadBalancerUids; OVHcloud: the private subnet)",
                    )
                )
    return findings


def check_nodes_in_private_network(resources: list[Res]) -> list[Finding]:
    """Nodes reach the database and cache over the private network, never the internet."""
    findings: list[Finding] = []
    by_urn = {r.urn: r for r in resources}
    for node in (r for r in resources if r.type in NODE_TYPES or r.type == DO_DROPLET_AUTOSCALE):
        wanted = PRIVATE_NETWORK_TYPES[node.type]
        if not any(by_urn[d].type in wanted for d in node.dependencies if d in by_urn):
            kinds = " or ".join(sorted(t.split(":")[-1] for t in wanted))
            findings.append(at(node, f"not attached to a {kinds} of this stack"))
        if node.type == DO_DROPLET and not node.get("vpcUuid"):
            findings.append(at(node, "no vpcUuid; the droplet lands in the default VPC"))
        template = node.get("dropletTemplate") if node.type == DO_DROPLET_AUTOSCALE else None
        if isinstance(template, dict) and not template.get("vpcUuid"):
            findings.append(at(node, "no dropletTemplate.vpcUuid; members land in the default VPC"))
    return findings
